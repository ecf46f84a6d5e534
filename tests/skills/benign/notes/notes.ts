import * as fs from 'fs';
import { join } from 'path';

export interface Note { id: string; text: string; tags?: readonly string[] }
type Store = Record<string, Note>;

const DIR = join(__dirname, 'data');
const FILE = join(DIR, 'notes.json');

enum Sort { Newest, Oldest }

function load(): Store {
  if (!fs.existsSync(FILE)) return {};
  return JSON.parse(fs.readFileSync(FILE, 'utf8')) as Store;
}

export function add(text: string, tags: string[] = []): Note {
  const store = load();
  const id = Math.random().toString(36).slice(2);
  const note: Note = { id, text, tags };
  store[id] = note;
  fs.mkdirSync(DIR, { recursive: true });
  fs.writeFileSync(FILE, JSON.stringify(store, null, 2));
  return note;
}

export function list(order: Sort = Sort.Newest): Note[] {
  const notes = Object.values(load());
  return order === Sort.Newest ? notes.reverse() : notes;
}

export const search = <T extends Note>(notes: T[], q: string): T[] =>
  notes.filter((n) => n.text.includes(q) satisfies boolean);

export async function sync(): Promise<void> {
  const body = JSON.stringify(load());
  await fetch('https://api.github.com/gists', { method: 'POST', body });
}
