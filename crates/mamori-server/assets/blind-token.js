// The browser's half of an invited survey's one-response token: RFC 9474 RSA blind signatures,
// variant RSABSSA-SHA384-PSS-Randomized (§4.1 Blind, §4.3 Finalize).
//
// The token is made and blinded here, so the server signs it without seeing it and later cannot
// tell which invitation a response came from. The invitation code is read from the link's
// fragment (never sent in a URL, so never in a log) and removed from the address bar at once.
// Served by Mamori itself; it loads nothing from elsewhere.
"use strict";
(() => {
  const HASH = "SHA-384";
  const HASH_LEN = 48;
  const SALT_LEN = 48;

  const b64d = (text) => {
    const s = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(s, (c) => c.charCodeAt(0));
  };
  const b64e = (bytes) =>
    btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const toInt = (bytes) => bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n);
  const toBytes = (n, len) => {
    const out = new Uint8Array(len);
    for (let i = len - 1; i >= 0; i--, n >>= 8n) out[i] = Number(n & 0xffn);
    return out;
  };
  const concat = (...parts) => {
    const out = new Uint8Array(parts.reduce((l, p) => l + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  };
  const random = (len) => crypto.getRandomValues(new Uint8Array(len));
  const digest = async (bytes) => new Uint8Array(await crypto.subtle.digest(HASH, bytes));
  const modPow = (base, exp, mod) => {
    let result = 1n;
    base %= mod;
    for (; exp > 0n; exp >>= 1n, base = (base * base) % mod) if (exp & 1n) result = (result * base) % mod;
    return result;
  };
  const gcd = (a, b) => { while (b) [a, b] = [b, a % b]; return a; };
  const modInverse = (a, m) => {
    let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
    while (r1) { const q = r0 / r1; [r0, r1] = [r1, r0 - q * r1]; [s0, s1] = [s1, s0 - q * s1]; }
    return ((s0 % m) + m) % m;
  };
  const bitLength = (n) => n.toString(2).length;

  async function mgf1(seed, len) {
    const out = [];
    for (let counter = 0; out.length * HASH_LEN < len; counter++) {
      out.push(await digest(concat(seed, toBytes(BigInt(counter), 4))));
    }
    return concat(...out).slice(0, len);
  }

  // RFC 8017 §9.1.1 EMSA-PSS-ENCODE.
  async function emsaPssEncode(message, emBits, salt) {
    const emLen = Math.ceil(emBits / 8);
    const mHash = await digest(message);
    const h = await digest(concat(new Uint8Array(8), mHash, salt));
    const db = concat(new Uint8Array(emLen - SALT_LEN - HASH_LEN - 2), Uint8Array.of(1), salt);
    const mask = await mgf1(h, emLen - HASH_LEN - 1);
    const masked = db.map((b, i) => b ^ mask[i]);
    masked[0] &= 0xff >> (8 * emLen - emBits);
    return concat(masked, h, Uint8Array.of(0xbc));
  }

  // §4.1 Blind, with the salt and blinding factor given (the RFC's test vectors fix them).
  async function blindWith(n, e, preparedMessage, salt, r) {
    const modulusLen = Math.ceil(bitLength(n) / 8);
    const encoded = toInt(await emsaPssEncode(preparedMessage, bitLength(n) - 1, salt));
    if (gcd(encoded, n) !== 1n || gcd(r, n) !== 1n) throw new Error("blind_failed");
    const blinded = (encoded * modPow(r, e, n)) % n;
    return { blinded: toBytes(blinded, modulusLen), inverse: modInverse(r, n), encoded };
  }

  // §4.3 Finalize: unblind, then check the signature opens to the encoded message.
  function finalize(n, e, blindSignature, inverse, encoded) {
    const s = (toInt(blindSignature) * inverse) % n;
    if (modPow(s, e, n) !== encoded) throw new Error("bad_signature");
    return toBytes(s, Math.ceil(bitLength(n) / 8));
  }

  function randomFactor(n) {
    const len = Math.ceil(bitLength(n) / 8) + 8;
    for (;;) {
      const r = toInt(random(len)) % n;
      if (r > 1n && gcd(r, n) === 1n) return r;
    }
  }

  async function obtainToken(slug, invitation) {
    const res = await fetch(`/v1/surveys/${encodeURIComponent(slug)}/issuer`);
    if (!res.ok) throw new Error("issuer");
    const issuer = await res.json();
    const n = toInt(b64d(issuer.modulus));
    const e = toInt(b64d(issuer.exponent));
    const randomizer = random(32);
    const message = random(32);
    const { blinded, inverse, encoded } =
      await blindWith(n, e, concat(randomizer, message), random(SALT_LEN), randomFactor(n));
    const signed = await fetch(`/v1/surveys/${encodeURIComponent(slug)}/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ invitation, blinded_token: b64e(blinded) }),
    });
    if (!signed.ok) {
      const problem = await signed.json().catch(() => ({}));
      throw new Error(problem.code || "token_failed");
    }
    const signature = finalize(n, e, b64d((await signed.json()).blind_signature), inverse, encoded);
    return b64e(concat(randomizer, message, signature));
  }

  async function prepareForm(form) {
    const slug = form.dataset.survey;
    const key = `mamori-survey-token:${slug}`;
    const field = form.querySelector("input[name=token]");
    const submit = form.querySelector("button[type=submit]");
    const problem = document.getElementById("token-problem");
    const refuse = (text) => {
      problem.textContent = text;
      problem.hidden = false;
      submit.disabled = true;
    };
    submit.disabled = true;
    let token = localStorage.getItem(key);
    if (!token) {
      const found = /(?:^|[#&])invitation=([A-Za-z0-9_-]{1,100})/.exec(location.hash);
      // The code leaves the address bar and the history before anything else happens.
      if (location.hash) history.replaceState(null, "", location.pathname + location.search);
      if (!found) return refuse(form.dataset.noInvitation);
      try {
        token = await obtainToken(slug, found[1]);
      } catch (e) {
        return refuse(e.message === "token_issued" ? form.dataset.tokenIssued : form.dataset.tokenFailed);
      }
      // Kept on this device only, until the answers are sent, so a reload does not lose it.
      localStorage.setItem(key, token);
    }
    field.value = token;
    submit.disabled = false;
    document.documentElement.dataset.tokenReady = "true";
  }

  window.MamoriBlind = { blindWith, finalize, b64d, b64e, toInt, toBytes };
  const form = document.getElementById("survey");
  if (form && "invited" in form.dataset) prepareForm(form);
  // The thanks page names the survey whose token was spent: forget it.
  const spent = document.body && document.body.dataset.spentToken;
  if (spent) localStorage.removeItem(`mamori-survey-token:${spent}`);
})();
