// Verifies webhooks AlertHub sent with the Standard Webhooks reference
// library for JavaScript (npm "standardwebhooks", pinned in
// tools/node/package.json), an implementation independent of AlertHub's.
//
//   node verify.mjs <node_modules dir> <cases.json>
//
// cases.json is [{"name", "secret": "whsec_...", "headers": {name: value},
// "body": "<exact body>"}]. Prints {"results": [{"name", "valid", "error"}]}
// on stdout, one result per case in order: "valid" is whether
// Webhook.verify accepted the request (it also checks the timestamp against
// this machine's clock, with its five-minute tolerance), "error" is its
// message when not. Exits 2 when the library cannot be loaded.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const [nodeModules, casesPath] = process.argv.slice(2);
if (!nodeModules || !casesPath) {
  console.error('usage: node verify.mjs <node_modules dir> <cases.json>');
  process.exit(2);
}

const require = createRequire(import.meta.url);
let Webhook;
try {
  ({ Webhook } = require(path.resolve(nodeModules, 'standardwebhooks')));
} catch (err) {
  console.error(`verify.mjs: cannot load standardwebhooks from ${nodeModules}: ${err.message}; ` +
                'run tools/bootstrap.sh');
  process.exit(2);
}

const cases = JSON.parse(readFileSync(casesPath, 'utf8'));
const results = cases.map(({ name, secret, headers, body }) => {
  try {
    new Webhook(secret).verify(body, headers);
    return { name, valid: true, error: '' };
  } catch (err) {
    return { name, valid: false, error: String(err.message) };
  }
});
process.stdout.write(JSON.stringify({ results }) + '\n');
