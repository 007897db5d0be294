/** Escapes text for HTML element and attribute content. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`=/]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The shared page frame of every server-rendered identity page. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15);width:min(22rem,90vw)}
h1{font-size:1.4rem;margin-top:0}label{display:block;margin:.8rem 0 .3rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.55rem;font-size:1rem;border:1px solid #888;border-radius:4px}
button{margin-top:1.2rem;width:100%;padding:.6rem;font-size:1rem;background:#1d4ed8;color:#fff;border:0;border-radius:4px;cursor:pointer}
.error{background:#fde8e8;color:#8a1c1c;padding:.6rem;border-radius:4px}.muted{color:#555;font-size:.9rem}
</style>
</head>
<body><main>${body}</main></body>
</html>`;
}

const ERROR_TITLES: Partial<Record<number, string>> = {
  400: 'This request cannot be used',
  401: 'Not signed in',
  403: 'Not allowed',
  404: 'Page not found',
  413: 'Too much data',
  415: 'Unsupported form',
  429: 'Too many attempts',
  503: 'Temporarily unavailable',
};

/** The error page of browser routes, for any status: the heading by status, the error's own message. */
export function errorPage(status: number, body: { error: string; message: string; error_id?: string }): string {
  const title = ERROR_TITLES[status] ?? (status >= 500 ? 'Something went wrong' : 'This request cannot be used');
  const reference = body.error_id ? `<p class="muted">Error id: ${escapeHtml(body.error_id)}</p>` : '';
  const advice = status >= 500 ? 'Please try again in a moment.' : 'Go back to the application and try again.';
  return page(
    title,
    `<h1>${escapeHtml(title)}</h1><p class="error" role="alert">${escapeHtml(body.message)}</p><p class="muted">${advice}</p>${reference}`,
  );
}
