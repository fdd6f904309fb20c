// A real OpenID Provider (node-oidc-provider, OpenID Certified) on loopback, for the
// primex service tests and `make serve`. Usage: node provider.js CONFIG.json
// CONFIG: {"issuer": "http://127.0.0.1:PORT", "port": PORT,
//          "clients": [{"client_id", "client_secret", "redirect_uris": [...]}],
//          "accounts": {"<subject>": {"password": "..."}}}
// The login page checks the password of a configured account; consent for the configured
// (first-party) client is given with the login. Prints "READY <port>" when listening.
import { generateKeyPairSync, timingSafeEqual, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import Provider from 'oidc-provider';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: 'k1' };

const provider = new Provider(cfg.issuer, {
  clients: cfg.clients.map((c) => ({
    ...c,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  jwks: { keys: [jwk] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: (ctx, id) => (cfg.accounts[id]
    ? { accountId: id, claims: () => ({ sub: id }) } : undefined),
  cookies: { keys: [createHash('sha256').update(JSON.stringify(jwk)).digest('hex')] },
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600,
    Session: 3600, Grant: 3600 },
});

const same = (a, b) => {
  const x = createHash('sha256').update(String(a)).digest();
  const y = createHash('sha256').update(String(b)).digest();
  return timingSafeEqual(x, y);
};

const page = (uid, message) => `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Demo sign-in</title></head><body><h1>Demo OpenID Provider</h1>
${message ? `<p role="alert">${message}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
<label>Login <input name="login" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form></body></html>`;

const readBody = (req) => new Promise((resolve, reject) => {
  let data = '';
  req.on('data', (chunk) => { data += chunk; if (data.length > 10000) req.destroy(); });
  req.on('end', () => resolve(new URLSearchParams(data)));
  req.on('error', reject);
});

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, cfg.issuer);
  const m = url.pathname.match(/^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/);
  if (!m) { callback(req, res); return; }
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== m[1]) throw new Error('interaction mismatch');
    if (req.method === 'GET' && !m[2]) {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(page(details.uid));
      return;
    }
    if (req.method !== 'POST' || !m[2]) { res.statusCode = 405; res.end(); return; }
    const form = await readBody(req);
    const login = form.get('login') || '';
    const account = Object.hasOwn(cfg.accounts, login) ? cfg.accounts[login] : undefined;
    if (!account || !same(account.password, form.get('password') || '')) {
      res.statusCode = 401;
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(page(details.uid, 'Wrong login or password.'));
      return;
    }
    const grant = new provider.Grant({ accountId: login, clientId: details.params.client_id });
    grant.addOIDCScope('openid');
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, {
      login: { accountId: login }, consent: { grantId },
    }, { mergeWithLastSubmission: false });
  } catch (err) {
    res.statusCode = 400;
    res.end('bad interaction');
  }
});
server.listen(cfg.port, '127.0.0.1', () => {
  console.log(`READY ${server.address().port}`);
});
