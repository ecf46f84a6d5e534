// Payloads below are inert placeholders (console.log), encoded the way
// loaders in the wild encode theirs.
const p1 = 'Y29uc29sZS5sb2coInN0YWdlMiIp';
eval(atob(p1)); // MAL
eval(Buffer.from('636f6e736f6c652e6c6f672822332229', 'hex').toString()); // MAL
const stage = Buffer.from(p1, 'base64').toString('utf8');
new Function(stage)(); // MAL
const f = Function;
f(Buffer.from(p1, 'base64').toString())(); // MAL
(0, eval)(String.fromCharCode(99, 111, 110, 115, 111, 108, 101)); // MAL
setTimeout('console.log(' + JSON.stringify(stage) + ')', 1000); // MAL
require('vm').runInNewContext(stage, { require }); // MAL
const dec = decodeURIComponent('%63%6f%6e%73%6f%6c%65%2e%6c%6f%67%28%31%29');
globalThis.eval(dec); // MAL
const mod = ['o', 'h', 'c', 'e'].reverse().join('');
require(mod + (process.env.X || '')); // MAL
module.exports = (s) => String(s).trim();
