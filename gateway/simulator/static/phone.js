// vaxgate phone simulator: USSD over /ussd/africastalking, IVR over /ivr/twilio, SMS inbox.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const display = $("display"), dialbox = $("dialbox");
  let mode = null;            // "ussd" | "ivr" | null
  let sessionId = "", history = [];
  let call = null;            // {sid, action}

  function show(text, ended) {
    display.textContent = text;
    display.classList.toggle("ended", !!ended);
  }

  function form(fields) {
    const body = new URLSearchParams();
    Object.entries(fields).forEach(([k, v]) => body.append(k, v));
    return {method: "POST", body: body,
            headers: {"Content-Type": "application/x-www-form-urlencoded"}};
  }

  function phone() { return $("phone").value.trim(); }

  // ---- USSD: the whole history in `text`, joined by "*" (as Africa's Talking sends it)
  async function ussdStep() {
    const response = await fetch("/ussd/africastalking", form({
      sessionId: sessionId, serviceCode: window.SIMULATOR.code, phoneNumber: phone(),
      networkCode: "40410", text: history.join("*")}));
    const text = await response.text();
    const ended = !text.startsWith("CON ");
    show(text.replace(/^(CON|END) /, ""), ended);
    if (ended) { mode = null; setTimeout(loadInbox, 800); }
  }

  function dial() {
    const code = dialbox.value.trim() || window.SIMULATOR.code;
    window.SIMULATOR.code = code;
    mode = "ussd"; history = [];
    sessionId = "sim-" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    dialbox.value = "";
    show("Dialling " + code + " …");
    ussdStep();
  }

  // ---- IVR: post Twilio's fields, read the TwiML, follow <Gather action>
  async function ivrPost(path, digits) {
    const fields = {CallSid: call.sid, From: phone(), To: "+911800000000",
                    CallStatus: "in-progress"};
    if (digits !== undefined) fields.Digits = digits;
    const response = await fetch(path, form(fields));
    renderTwiml(await response.text());
  }

  function localPath(url) {
    const parsed = new URL(url, window.location.href);
    return parsed.pathname + parsed.search;
  }

  function renderTwiml(xml) {
    const doc = new DOMParser().parseFromString(xml, "text/xml");
    const lines = [];
    let audio = "";
    doc.querySelectorAll("Say, Play").forEach((node) => {
      if (node.nodeName === "Play") { audio = audio || node.textContent.trim(); lines.push("♪ (recorded prompt)"); }
      else lines.push(node.textContent.trim());
    });
    const gather = doc.querySelector("Gather"), record = doc.querySelector("Record");
    const target = gather || record;
    call.action = target ? localPath(target.getAttribute("action")) : null;
    const ended = !target;
    show(lines.join("\n") + (record ? "\n\n(recording: press Send to skip)" : ""), ended);
    const player = $("audio");
    if (audio) { player.src = audio; player.hidden = false; player.play().catch(() => {}); }
    else { player.hidden = true; }
    if (ended) { mode = null; call = null; setTimeout(loadInbox, 800); }
  }

  function startCall() {
    mode = "ivr";
    call = {sid: "CAsim" + Date.now().toString(16) + Math.random().toString(16).slice(2, 10), action: null};
    show("Calling …");
    ivrPost("/ivr/twilio");
  }

  // ---- keypad and buttons
  function send() {
    const value = dialbox.value;
    if (mode === "ussd") {
      history.push(value); dialbox.value = ""; ussdStep();
    } else if (mode === "ivr" && call && call.action) {
      dialbox.value = ""; ivrPost(call.action, value.replace(/#$/, ""));
    } else {
      dial();
    }
  }

  function hangup() {
    mode = null; call = null; history = [];
    show("Call ended. Dial " + window.SIMULATOR.code + " to begin again.", true);
    dialbox.value = window.SIMULATOR.code;
  }

  async function loadInbox() {
    const list = $("inbox");
    const response = await fetch("/simulator/inbox?phone=" + encodeURIComponent(phone()));
    if (!response.ok) { list.innerHTML = "<li>Enter a valid phone number.</li>"; return; }
    const data = await response.json();
    list.innerHTML = "";
    data.messages.forEach((m) => {
      const item = document.createElement("li");
      const when = document.createElement("small");
      when.textContent = new Date(m.at).toLocaleString();
      item.append(when, document.createTextNode(m.body));
      list.append(item);
    });
    if (!data.messages.length) list.innerHTML = "<li>No messages yet.</li>";
  }

  document.querySelectorAll(".key").forEach((button) =>
    button.addEventListener("click", () => { dialbox.value += button.dataset.key; dialbox.focus(); }));
  $("send").addEventListener("click", send);
  $("dial").addEventListener("click", dial);
  if ($("call")) $("call").addEventListener("click", startCall);
  $("hangup").addEventListener("click", hangup);
  $("clear").addEventListener("click", () => { dialbox.value = dialbox.value.slice(0, -1); });
  $("refresh").addEventListener("click", loadInbox);
  dialbox.addEventListener("keydown", (e) => { if (e.key === "Enter") send(); });
  $("phone").addEventListener("change", loadInbox);
  loadInbox();
  setInterval(loadInbox, 5000);
})();
