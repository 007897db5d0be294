import type { Response } from 'express';
import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * How a browser logout route answers, whichever framework carries its response: Express for the
 * Nest routes (`GET /logout`), Koa inside oidc-provider (`/session/end`). Used by
 * BrowserLogout.finish, the one place that decides between the two.
 */
export interface LogoutAnswer {
  /** 303 See Other to `location`. */
  redirect(location: string): void;
  /** 200 with an HTML page (and no Location header). */
  page(html: string): void;
}

export function expressAnswer(res: Response): LogoutAnswer {
  return {
    redirect: (location) => res.redirect(303, location),
    page: (html) => void res.status(200).type('html').send(html),
  };
}

export function koaAnswer(ctx: KoaContextWithOIDC): LogoutAnswer {
  return {
    redirect: (location) => {
      // After /session/end/confirm the provider itself already answered with this very redirect.
      if (ctx.status === 303 && ctx.response.get('location') === location) return;
      ctx.status = 303;
      ctx.redirect(location);
    },
    page: (html) => {
      ctx.remove('location');
      ctx.status = 200;
      ctx.type = 'html';
      ctx.body = html;
    },
  };
}
