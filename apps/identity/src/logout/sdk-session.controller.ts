import { Controller, Get, Header, HttpCode, Options, Post, Query, Req, Res } from '@nestjs/common';
import { ClientsService } from '@slo/clients';
import { AppError, ErrorCode } from '@slo/errors';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { BrowserLogout } from './browser-logout.service';

/** The header a state-changing SDK call must carry: a cross-site form cannot send it, and sending it needs a CORS preflight. */
const SDK_REQUEST_HEADER = 'x-spid-request';

interface SessionStatus {
  logged_in: boolean;
  user_id: string | null;
  /** Changes when the user signs in anew; not the session id itself. */
  session_hash: string | null;
  client_id: string;
}

/**
 * Endpoints of the browser SDK: session status and logout, callable with
 * `fetch(..., { credentials: 'include' })` from the client's registered web origins only.
 */
@Controller('api/2/session')
export class SdkSessionController {
  constructor(
    private readonly clients: ClientsService,
    private readonly browserLogout: BrowserLogout,
  ) {}

  @Options(['', 'logout'])
  @HttpCode(204)
  async preflight(@Query('client_id') clientId: unknown, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    await this.allowOrigin(clientId, req, res);
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
    res.setHeader('Access-Control-Allow-Headers', `${SDK_REQUEST_HEADER}, content-type`);
    res.setHeader('Access-Control-Max-Age', '600');
  }

  @Get()
  @Header('Cache-Control', 'no-store')
  async status(
    @Query('client_id') clientId: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SessionStatus> {
    const client = await this.allowOrigin(clientId, req, res);
    const session = await this.browserLogout.currentSession(req, res);
    return {
      logged_in: Boolean(session),
      user_id: session?.sub ?? null,
      session_hash: session ? createHash('sha256').update(`${client}:${session.sid}`).digest('base64url').slice(0, 22) : null,
      client_id: client,
    };
  }

  @Post('logout')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async logoutSession(
    @Query('client_id') clientId: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ logged_out: boolean; event_id: string | null }> {
    const client = await this.allowOrigin(clientId, req, res);
    if (req.headers[SDK_REQUEST_HEADER] === undefined) {
      throw new AppError(ErrorCode.Forbidden, `the ${SDK_REQUEST_HEADER} header is required`);
    }
    const recorded = await this.browserLogout.endCurrentSession(req, res, 'user_logout', client);
    return { logged_out: Boolean(recorded), event_id: recorded?.event.id ?? null };
  }

  /**
   * The client must exist; a request carrying an Origin must come from one of its web origins.
   * Allowed origins get CORS headers with credentials; others get a 403 and no CORS headers.
   */
  private async allowOrigin(clientId: unknown, req: Request, res: Response): Promise<string> {
    if (typeof clientId !== 'string' || !clientId) throw AppError.validation('client_id', 'is required');
    const webOrigins = await this.clients.activeWebOrigins(clientId);
    if (!webOrigins) throw AppError.validation('client_id', 'is not a registered application');
    res.setHeader('Vary', 'Origin');
    const origin = req.headers.origin;
    if (origin === undefined) return clientId;
    if (!webOrigins.includes(origin.toLowerCase())) {
      throw new AppError(ErrorCode.Forbidden, `origin ${origin} is not a registered web origin of ${clientId}`);
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    return clientId;
  }
}
