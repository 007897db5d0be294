import { HttpSession } from '@slo/testing';

export interface Page {
  url: string;
  res: Response;
  html: string;
}

/** The hidden fields of a form, entity-decoded. */
export function hiddenInputs(form: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of form.matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(m[0])?.[1];
    const value = /value="([^"]*)"/.exec(m[0])?.[1] ?? '';
    if (name) fields[name] = value.replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c)));
  }
  return fields;
}

/**
 * A scripted browser without JavaScript: follows redirects across origins, signs in on the login
 * form with `user`, and submits auto-posting forms (response_mode=form_post) as a browser's script would.
 */
export async function browse(
  session: HttpSession,
  start: string,
  user?: { email: string; password: string },
  init: RequestInit = {},
): Promise<Page> {
  let url = start;
  let res = await session.request(url, init);
  for (let hops = 0; hops < 20; hops++) {
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      url = new URL(location, url).href;
      res = await session.request(url);
      continue;
    }
    const html = res.status === 200 && (res.headers.get('content-type') ?? '').includes('html') ? await res.text() : '';
    const login = /<form method="post" action="([^"]+\/login)"/.exec(html);
    if (login && user) {
      url = new URL(login[1], url).href;
      res = await session.postForm(url, user);
      continue;
    }
    const autoPost = /<form[^>]*method="post"[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
    if (autoPost && /onload|submit\(\)/.test(html) && !/op\.logoutForm/.test(html)) {
      url = new URL(autoPost[1].replace(/&amp;/g, '&'), url).href;
      res = await session.postForm(url, hiddenInputs(autoPost[2]));
      continue;
    }
    return { url, res, html };
  }
  throw new Error(`too many redirects from ${start}`);
}
