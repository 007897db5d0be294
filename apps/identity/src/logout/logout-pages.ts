import { escapeHtml, page } from '../oidc/html';

/** A front-channel logout iframe: the client's frontchannel_logout_uri with iss and sid. */
export interface FrontchannelFrame {
  clientId: string;
  src: string;
}

/** Signed out. With front-channel clients: their iframes load here, then the browser continues to `next`. */
export function loggedOutPage(frames: FrontchannelFrame[], next: string | null): string {
  const iframes = frames
    .map(
      (f) =>
        `<iframe class="fc" src="${escapeHtml(f.src)}" title="${escapeHtml(f.clientId)}" width="0" height="0" hidden></iframe>`,
    )
    .join('');
  const onward = next
    ? `<p><a id="continue" href="${escapeHtml(next)}">Continue</a></p>
<script>(function(){var left=${frames.length};var go=function(){location.replace(${JSON.stringify(next).replace(/</g, '\\u003c')});};
document.querySelectorAll('iframe.fc').forEach(function(f){f.addEventListener('load',function(){if(--left<=0)go();});});
setTimeout(go,3000);if(left===0)go();})();</script>`
    : '';
  return page('Signed out', `<h1>You are signed out</h1><p class="muted">You can close this window.</p>${iframes}${onward}`);
}

/** RP-initiated logout without a valid id_token_hint: the user confirms. With one, the page submits itself. */
export function confirmLogoutPage(formHtml: string, clientName: string | null, autoSubmit: boolean): string {
  const who = clientName ? ` of ${escapeHtml(clientName)} and every other application` : '';
  const auto = autoSubmit
    ? `<script>(function(){var f=document.getElementById('op.logoutForm');var i=document.createElement('input');
i.type='hidden';i.name='logout';i.value='yes';f.appendChild(i);f.submit();})();</script>`
    : '';
  return page(
    'Sign out',
    `<h1>Sign out?</h1><p>Do you want to sign out${who}?</p>${formHtml}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>${auto}`,
  );
}

export function logoutErrorPage(message: string): string {
  return page(
    'Sign-out error',
    `<h1>Cannot sign out here</h1><p class="error" role="alert">${escapeHtml(message)}</p><p class="muted">Go back to the application and try again.</p>`,
  );
}
