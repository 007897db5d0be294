import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { outageBody, RETRY_AFTER_SECONDS } from '@slo/observability';
import { errors } from 'oidc-provider';
import { escapeHtml, page } from '../oidc/html';

/**
 * Interaction pages are for people: an unknown, expired or already used sign-in answers a 400
 * page that says what to do; anything else is a 500 page with an id that is also logged.
 */
@Catch()
export class InteractionErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Interaction');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    const outage = outageBody(exception);
    if (outage) {
      res.status(503).setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      res
        .type('html')
        .send(page('Temporarily unavailable', `<h1>Temporarily unavailable</h1><p>${escapeHtml(outage.message)}</p>`));
      return;
    }
    if (exception instanceof errors.OIDCProviderError && exception.status < 500) {
      res
        .status(400)
        .type('html')
        .send(
          page(
            'Sign-in expired',
            `<h1>This sign-in has expired</h1><p class="error" role="alert">${escapeHtml(
              exception.error_description ?? exception.message,
            )}</p><p>Go back to the application and start again.</p>`,
          ),
        );
      return;
    }
    const errorId = crypto.randomUUID();
    this.logger.error({ err: exception, errorId }, `interaction failed ${errorId}`);
    res
      .status(500)
      .type('html')
      .send(page('Error', `<h1>Something went wrong</h1><p>Please try again. Error id: ${escapeHtml(errorId)}</p>`));
  }
}
