export const Row = ({ k, v }) => <tr><td>{k}</td><td>{v}</td></tr>;
export const fmt = (n) => new Intl.NumberFormat('en').format(n);
export const pick = (o, k) => o[k];
