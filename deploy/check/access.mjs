// Who may reach what: NetworkPolicies of the Redis and Kafka pods, and the
// accounts tokens (one per caller, with that caller's scopes only).
import { envOf, mainContainer, secretValue, selects } from "./k8s.mjs";

// A peer as text: "name=ingress", "kiebot.io/job-publisher=true",
// "ns{...} name=keda-operator"; an empty `from` admits everyone.
function peerText(peer) {
  if (peer.ipBlock) return `ipBlock ${peer.ipBlock.cidr}`;
  const labels = (sel) => Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k.replace("app.kubernetes.io/", "")}=${v}`).join(",");
  const ns = peer.namespaceSelector ? `ns{${labels(peer.namespaceSelector)}} ` : "";
  return `${ns}${peer.podSelector ? labels(peer.podSelector) || "(every pod)" : "(every pod)"}`;
}

// For the pods with these labels: port -> the peers the policies admit ("*" = anyone).
function admitted(all, labels) {
  const policies = all.filter((x) => x.kind === "NetworkPolicy" && selects(x.spec.podSelector, labels) &&
    (x.spec.policyTypes ?? ["Ingress"]).includes("Ingress"));
  const byPort = new Map();
  const add = (port, peer) => { if (!byPort.has(port)) byPort.set(port, new Set()); byPort.get(port).add(peer); };
  for (const np of policies) {
    for (const rule of np.spec.ingress ?? []) {
      const ports = rule.ports?.length ? rule.ports.map((p) => p.port) : ["*"];
      const peers = rule.from?.length ? rule.from.map(peerText) : ["*"];
      for (const port of ports) for (const peer of peers) add(port, peer);
    }
  }
  return { policies, byPort };
}

const sameSet = (a, b) => a.size === b.size && [...a].every((x) => b.has(x));

export function checkNetworkPolicies(overlay, all, problem) {
  // The example Redis: only the three services, on 6379 only.
  for (const w of all.filter((x) => ["StatefulSet", "Deployment"].includes(x.kind) &&
                                     x.spec.template.metadata?.labels?.["app.kubernetes.io/name"] === "redis")) {
    const where = `${overlay}/${w.kind}/${w.metadata.name}`;
    const { policies, byPort } = admitted(all, w.spec.template.metadata.labels);
    if (!policies.length) { problem(where, "no NetworkPolicy: every pod in the cluster reaches Redis"); continue; }
    const want = new Set(["name=ingress", "name=generator", "name=accounts"]);
    for (const [port, peers] of byPort) {
      if (port !== 6379) problem(where, `NetworkPolicy admits port ${port}; only 6379 is Redis`);
      else if (!sameSet(peers, want)) problem(where, `port 6379 must admit exactly ${[...want]} (admits: ${[...peers]})`);
    }
  }
  // The example Kafka: clients on the listener only; Strimzi's own ports for Strimzi.
  for (const kafka of all.filter((x) => x.kind === "Kafka")) {
    const where = `${overlay}/Kafka/${kafka.metadata.name}`;
    const name = kafka.metadata.name;
    const labels = { "strimzi.io/cluster": name, "strimzi.io/kind": "Kafka", "strimzi.io/name": `${name}-kafka` };
    const { policies, byPort } = admitted(all, labels);
    if (!policies.length) { problem(where, "no NetworkPolicy for the broker pods"); continue; }
    const keda = all.some((x) => x.kind === "ScaledObject");
    const want = new Set(["name=ingress", "name=generator", "kiebot.io/job-publisher=true",
                          ...(keda ? ["ns{kubernetes.io/metadata.name=keda} name=keda-operator"] : [])]);
    const listeners = kafka.spec?.kafka?.listeners ?? [];
    for (const l of listeners) {
      const peers = byPort.get(l.port) ?? new Set();
      if (!sameSet(peers, want)) problem(where, `listener port ${l.port} must admit exactly ${[...want]} (admits: ${[...peers]})`);
      const own = new Set((l.networkPolicyPeers ?? []).map(peerText));
      if (!sameSet(own, want)) problem(where, `listener ${l.name}'s networkPolicyPeers (Strimzi's own policy) must be ${[...want]} (are: ${[...own]})`);
    }
    for (const [port, peers] of byPort) {
      if (listeners.some((l) => l.port === port)) continue;
      for (const peer of peers) {
        if (peer === "*" || !/strimzi\.io\//.test(peer)) problem(where, `port ${port} is Strimzi's own, and admits ${peer}`);
      }
    }
  }
}

// What each caller of accounts may do (docs/accounts-api.md, "Callers").
const SCOPES = {
  generator: ["read", "settle"],
  ingress: ["read", "hold", "settle", "user", "admin", "credit:stars", "credit:referral", "credit:admin_grant",
            "debit:stars_refund", "debit:admin_debit"],
};

// ACCOUNTS_TOKENS as accounts parses it (services/accounts/src/callers.cpp).
function parseTokens(spec, known, fail) {
  const out = [];
  for (const raw of spec.split(/[;\n]/)) {
    const entry = raw.trim();
    if (!entry) continue;
    const [name, token, ...rest] = entry.split(":");
    const scopes = rest.join(":").split(",").map((s) => s.trim()).filter(Boolean);
    if (rest.length === 0) { fail("an entry is not name:token:scope,scope"); continue; }
    if (!/^[A-Za-z0-9_-]+$/.test(name.trim())) fail(`entry ${name}: a name is letters, digits, - and _`);
    if (!/^[A-Za-z0-9\-._~+/=]{16,}$/.test(token.trim())) fail(`entry ${name}: a token is at least 16 of A-Z a-z 0-9 - . _ ~ + / =`);
    for (const s of scopes) if (known && !known.has(s)) fail(`entry ${name}: accounts knows no scope ${s}`);
    if (!scopes.length) fail(`entry ${name}: no scopes`);
    out.push({ name: name.trim(), token: token.trim(), scopes });
  }
  return out;
}

export function checkAccountsTokens(overlay, all, knownScopes, problem) {
  const deployment = (name) => all.find((x) => x.kind === "Deployment" && x.metadata.name === name);
  const accounts = deployment("accounts");
  if (!accounts) return;
  const where = `${overlay}/Deployment/accounts`;
  const env = envOf(mainContainer(accounts, "accounts"), all);
  if (env.has("ACCOUNTS_TOKEN")) problem(where, "ACCOUNTS_TOKEN is one token with every scope (local runs): give accounts ACCOUNTS_TOKENS only");
  const list = env.get("ACCOUNTS_TOKENS")?.secret;
  if (!list) { problem(where, "ACCOUNTS_TOKENS must come from a Secret"); return; }
  const refs = new Map();
  const tokens = {};
  for (const caller of Object.keys(SCOPES)) {
    const d = deployment(caller);
    if (!d) continue;
    const ref = envOf(mainContainer(d, caller), all).get("ACCOUNTS_TOKEN")?.secret;
    if (!ref) { problem(`${overlay}/Deployment/${caller}`, "ACCOUNTS_TOKEN must come from a Secret (its own token)"); continue; }
    const text = `${ref.name}/${ref.key}`;
    if (refs.has(text)) problem(`${overlay}/Deployment/${caller}`, `ACCOUNTS_TOKEN is ${refs.get(text)}'s token (${text}): each caller has its own`);
    if (text === `${list.name}/${list.key}`) problem(`${overlay}/Deployment/${caller}`, "ACCOUNTS_TOKEN is the whole ACCOUNTS_TOKENS list");
    refs.set(text, caller);
    tokens[caller] = secretValue(all, ref.name, ref.key);
  }
  // The values, where the overlay carries them (dev): each caller's token has its scopes, and no more.
  const spec = secretValue(all, list.name, list.key);
  if (spec === undefined) return;
  const at = `${overlay}/Secret/${list.name}`;
  const entries = parseTokens(spec, knownScopes, (m) => problem(at, `${list.key}: ${m}`));
  const names = entries.map((e) => e.name);
  if (new Set(names).size !== names.length) problem(at, `${list.key}: a name is used twice`);
  if (new Set(entries.map((e) => e.token)).size !== entries.length) problem(at, `${list.key}: a token is used twice`);
  for (const e of entries) {
    if (e.scopes.includes("*")) problem(at, `${list.key}: entry ${e.name} has every scope (*)`);
    const caller = Object.keys(tokens).find((c) => tokens[c] === e.token);
    if (!caller) { problem(at, `${list.key}: entry ${e.name}'s token is no caller's ACCOUNTS_TOKEN here`); continue; }
    const want = new Set(SCOPES[caller]);
    if (!sameSet(new Set(e.scopes), want)) problem(at, `${list.key}: ${caller}'s token (entry ${e.name}) has scopes ${e.scopes}, it needs exactly ${[...want]}`);
  }
  for (const [caller, token] of Object.entries(tokens)) {
    if (token !== undefined && !entries.some((e) => e.token === token)) problem(at, `${list.key}: no entry for ${caller}'s token: accounts would refuse it`);
  }
}
