// Mamori console: passkeys. The console's only script; every page works without it (the
// authenticator app and recovery codes need none). A button with data-passkey="enrol", "add",
// "sign-in" or "reauthenticate" asks the server for a ceremony, hands its options to
// navigator.credentials, and posts the answer with the button's own form, so the outcome is an
// ordinary page. Passkeys belong to one origin (data-origin): elsewhere the button goes there.
'use strict';
(function () {
  function toBytes(b64url) {
    const b64 = b64url.replace(/-/g, '+').replace(/_/g, '/');
    const raw = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }
  function toB64url(buffer) {
    let raw = '';
    new Uint8Array(buffer).forEach((b) => { raw += String.fromCharCode(b); });
    return btoa(raw).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function withIds(list) {
    return (list || []).map((c) => Object.assign({}, c, { id: toBytes(c.id) }));
  }
  function creationOptions(o) {
    const p = Object.assign({}, o.publicKey);
    p.challenge = toBytes(p.challenge);
    p.user = Object.assign({}, p.user, { id: toBytes(p.user.id) });
    p.excludeCredentials = withIds(p.excludeCredentials);
    return { publicKey: p };
  }
  function requestOptions(o) {
    const p = Object.assign({}, o.publicKey);
    p.challenge = toBytes(p.challenge);
    p.allowCredentials = withIds(p.allowCredentials);
    return { publicKey: p };
  }
  function created(c) {
    return {
      id: c.id, rawId: toB64url(c.rawId), type: c.type,
      response: {
        attestationObject: toB64url(c.response.attestationObject),
        clientDataJSON: toB64url(c.response.clientDataJSON),
      },
      extensions: c.getClientExtensionResults(),
    };
  }
  function asserted(c) {
    const r = c.response;
    return {
      id: c.id, rawId: toB64url(c.rawId), type: c.type,
      response: {
        authenticatorData: toB64url(r.authenticatorData),
        clientDataJSON: toB64url(r.clientDataJSON),
        signature: toB64url(r.signature),
        userHandle: r.userHandle ? toB64url(r.userHandle) : null,
      },
      extensions: {},
    };
  }
  function say(button, text) {
    const out = document.getElementById(button.getAttribute('aria-describedby') || '');
    if (out) { out.textContent = text; out.setAttribute('role', 'alert'); }
  }
  async function run(button) {
    const form = button.form;
    const kind = button.dataset.passkey;
    const origin = button.dataset.origin;
    if (origin && window.location.origin !== origin) {
      window.location.assign(origin + window.location.pathname + window.location.search);
      return;
    }
    if (kind === 'enrol' && !(form.elements.password.reportValidity()
      && form.elements.confirm.reportValidity())) return;
    const body = new URLSearchParams({ csrf: form.elements.csrf.value });
    if (kind === 'enrol') body.set('link', form.elements.token.value);
    const started = await fetch('/console/passkeys/' + kind, {
      method: 'POST', body, credentials: 'same-origin',
    });
    if (!started.ok) { say(button, button.dataset.failed); return; }
    const { token, options } = await started.json();
    let answer;
    try {
      answer = kind === 'enrol' || kind === 'add'
        ? created(await navigator.credentials.create(creationOptions(options)))
        : asserted(await navigator.credentials.get(requestOptions(options)));
    } catch (e) {
      say(button, button.dataset.failed);
      return;
    }
    form.elements.passkey_token.value = token;
    form.elements.passkey_answer.value = JSON.stringify(answer);
    // The step the form stands for rides on its submit button (the erasure's).
    const submitter = button.dataset.submit && document.getElementById(button.dataset.submit);
    if (submitter) form.requestSubmit(submitter); else form.submit();
  }
  if (!window.PublicKeyCredential) return;
  document.querySelectorAll('[data-passkey]').forEach((button) => {
    const section = button.closest('[data-passkey-section]');
    if (section) section.hidden = false;
    button.addEventListener('click', (event) => {
      event.preventDefault();
      run(button).catch(() => say(button, button.dataset.failed));
    });
  });
}());
