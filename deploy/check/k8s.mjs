// Small helpers over rendered Kubernetes objects: a container's environment
// as Kubernetes builds it, and label selectors.

// A container's variables: envFrom ConfigMaps first, then env (which wins).
// Each is {name, value} or {name, secret: {name, key}} or {name, other: true}.
export function envOf(container, all) {
  const names = new Map();
  for (const from of container.envFrom ?? []) {
    const cm = all.find((x) => x.kind === "ConfigMap" && x.metadata.name === from.configMapRef?.name);
    for (const [k, v] of Object.entries(cm?.data ?? {})) names.set(k, { name: k, value: v, configMap: cm.metadata.name });
  }
  for (const e of container.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) names.set(e.name, { name: e.name, secret: { name: ref.name, key: ref.key } });
    else if (e.valueFrom) names.set(e.name, { name: e.name, other: true });
    else names.set(e.name, { name: e.name, value: expand(e.value ?? "", names) });
  }
  return names;
}

// Kubernetes' $(VAR) expansion against the variables defined before; a
// Secret's value stays a marker «secret:<name>/<key>».
export function expand(value, names) {
  return value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name) => {
    const v = names.get(name);
    if (!v) return whole;
    if (v.secret) return `«secret:${v.secret.name}/${v.secret.key}»`;
    return v.value ?? whole;
  });
}

// The value of a Secret's key in this overlay, or undefined.
export function secretValue(all, name, key) {
  const s = all.find((x) => x.kind === "Secret" && x.metadata.name === name);
  if (!s) return undefined;
  if (s.stringData?.[key] !== undefined) return String(s.stringData[key]);
  if (s.data?.[key] !== undefined) return Buffer.from(s.data[key], "base64").toString();
  return undefined;
}

export const mainContainer = (workload, name) => {
  const containers = workload.spec.template.spec.containers;
  return containers.find((c) => c.name === name) ?? containers[0];
};

// Whether a label selector (matchLabels only) selects these labels.
export function selects(selector, labels) {
  if (!selector) return false;
  if (selector.matchExpressions?.length) return false;
  return Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels?.[k] === v);
}
