import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { toErrorBody } from '@slo/errors';
import type { Request, Response } from 'express';
import { errors } from 'oidc-provider';
import { errorPage, escapeHtml, page } from '../oidc/html';

/**
 * Interaction pages are for people: an unknown, expired or already used sign-in answers a 400
 * page that says what to do; every other error answers the page for the status toErrorBody gives
 * it (a bad form 400/415, an outage 503, a bug 500 with an id that is also logged).
 */
@Catch()
export class InteractionErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Interaction');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    res.setHeader('Cache-Control', 'no-store');
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
    const { status, body } = toErrorBody(exception, this.logger, host.switchToHttp().getRequest<Request>());
    res.status(status).type('html').send(errorPage(status, body));
  }
}
