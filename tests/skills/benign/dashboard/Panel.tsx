import React, { useEffect, useState } from 'react';

type Props = { title: string; refreshMs?: number };

export function Panel({ title, refreshMs = 5000 }: Props) {
  const [status, setStatus] = useState<string>('unknown');
  useEffect(() => {
    const id = setInterval(async () => {
      const r = await fetch('https://api.anthropic.com/v1/status');
      setStatus(r.ok ? 'up' : 'down');
    }, refreshMs);
    return () => clearInterval(id);
  }, [refreshMs]);
  const label = String.fromCharCode(0x2713);
  return (
    <section className="panel" data-eval="no">
      <h2>{title}</h2>
      <p>{status === 'up' ? label : 'x'} eval(status) is just text</p>
    </section>
  );
}
