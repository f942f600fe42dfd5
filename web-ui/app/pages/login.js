// Sign-in, and the first-run screen that creates the first admin with the one-time bootstrap token
// the server printed in its log.

import { html, useState } from "../html.js";
import { post, request } from "../api.js";
import { Field, Button, useAction } from "../ui/form.js";
import { ErrorText } from "../ui/notice.js";

function Brand() {
  return html`<div class="brand-big"><img src="/favicon.svg" alt="" width="40" height="40" /><span>Pulse</span></div>`;
}

export function LoginPage({ onDone }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [remember, setRemember] = useState(false);
  const action = useAction();
  const submit = (ev) => {
    ev.preventDefault();
    action.run(async () => {
      await post("/api/login", { username, password, rememberMe: remember });
      onDone();
    });
  };
  return html`<main class="auth">
    <form class="card auth-card" onSubmit=${submit} aria-labelledby="login-h">
      <${Brand} />
      <h1 id="login-h">Sign in</h1>
      <p class="muted">Real-time monitoring for Proxmox, TrueNAS, Docker and Kubernetes.</p>
      <${Field} label="Username" name="username" value=${username} onInput=${setUsername} autocomplete="username" required />
      <${Field} label="Password" name="password" type="password" value=${password} onInput=${setPassword} autocomplete="current-password" required />
      <${Field} type="checkbox" label="Keep me signed in" value=${remember} onInput=${setRemember} />
      <${ErrorText} error=${action.error} />
      <${Button} type="submit" kind="primary wide" busy=${action.busy}>Sign in</${Button}>
    </form>
  </main>`;
}

export function SetupPage({ onDone }) {
  const [f, setF] = useState({ token: "", username: "admin", password: "", confirm: "" });
  const action = useAction();
  const set = (k) => (v) => setF((old) => ({ ...old, [k]: v }));
  const submit = (ev) => {
    ev.preventDefault();
    action.run(async () => {
      if (f.password.length < 12) throw new Error("The password needs at least 12 characters.");
      if (f.password !== f.confirm) throw new Error("The two passwords differ.");
      await request("POST", "/api/security/setup", { username: f.username, password: f.password }, { "X-Setup-Token": f.token.trim() });
      await post("/api/login", { username: f.username, password: f.password, rememberMe: false });
      onDone();
    });
  };
  return html`<main class="auth">
    <form class="card auth-card" onSubmit=${submit} aria-labelledby="setup-h">
      <${Brand} />
      <h1 id="setup-h">Welcome — set up Pulse</h1>
      <p>Create the first administrator. Pulse printed a one-time <strong>bootstrap token</strong> in its log when it started
        (look for <code>bootstrap_token</code>). Setup works only from the machine Pulse runs on.</p>
      <${Field} label="Bootstrap token" name="token" value=${f.token} onInput=${set("token")} autocomplete="off" required />
      <${Field} label="Admin username" name="username" value=${f.username} onInput=${set("username")} autocomplete="username" required />
      <${Field} label="Password" name="password" type="password" value=${f.password} onInput=${set("password")} autocomplete="new-password" required hint="At least 12 characters." />
      <${Field} label="Repeat password" name="confirm" type="password" value=${f.confirm} onInput=${set("confirm")} autocomplete="new-password" required />
      <${ErrorText} error=${action.error} />
      <${Button} type="submit" kind="primary wide" busy=${action.busy}>Create admin and sign in</${Button}>
    </form>
  </main>`;
}
