import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const cacheFile = path.join(here, 'cache.json');
const API = 'https://api.openai.com/v1/chat/completions';

const re = /^(\d+)\s*(c|f)$/i;
function parseTemp(s) {
  const m = re.exec(s);
  return m ? { value: Number(m[1]), unit: m[2].toLowerCase() } : null;
}

async function summarise(text) {
  const res = await fetch(API, {
    method: 'POST',
    headers: { Authorization: `Bearer ${process.env.OPENAI_API_KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: text }] }),
  });
  return (await res.json()).choices[0].message.content;
}

export async function weather(city) {
  let cache = {};
  try {
    cache = JSON.parse(await readFile(cacheFile, 'utf8'));
  } catch {
    cache = {};
  }
  if (cache[city] && Date.now() - cache[city].at < 600000) return cache[city].text;
  const token = Buffer.from(`${city}:${Date.now()}`).toString('base64');
  const text = await summarise(`Weather for ${city} (${token})`);
  cache[city] = { at: Date.now(), text };
  await writeFile(cacheFile, JSON.stringify(cache));
  setTimeout(() => console.log('cache refreshed'), 1000);
  return text;
}

export const helpers = { parseTemp, decode: (b) => JSON.parse(atob(b)) };
