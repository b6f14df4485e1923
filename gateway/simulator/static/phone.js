// vaxgate phone simulator: USSD over /ussd/africastalking, IVR over /ivr/twilio, SMS inbox.
// During a call the phone speaks: <Play> recordings are played, <Say> lines are spoken by
// the browser's speech synthesis in their language; the display shows the text beside them.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const display = $("display"), dialbox = $("dialbox");
  const SHORT_CODE = /^\*[0-9*]+#$/;
  const SIMULATED_RECORDING = new URL("/simulator/recording.wav", window.location.href).href;
  let mode = null;            // "ussd" | "ivr" | null
  let sessionId = "", history = [];
  let call = null;            // {sid, action, expect: "key" | "digits" | "record" | null}
  let speaking = 0;           // the current speech queue; a new prompt or key stops the old
  window.SIMULATOR.spoken = [];  // what was said or played, in order (for people and tests)
  window.SIMULATOR.turns = 0;    // voice prompts answered so far

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
    if (ended) finish();
  }

  function dial() {
    const code = dialbox.value.trim() || window.SIMULATOR.code;
    if (!SHORT_CODE.test(code)) {
      show("Dial a short code such as " + window.SIMULATOR.code + ", or press Call.", true);
      dialbox.value = window.SIMULATOR.code;
      return;
    }
    window.SIMULATOR.code = code;
    mode = "ussd"; history = [];
    sessionId = "sim-" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    dialbox.value = "";
    show("Dialling " + code + " …");
    ussdStep();
  }

  function finish() {
    mode = null; call = null; history = [];
    dialbox.value = window.SIMULATOR.code;  // what is typed next is a new dial, not an answer
    setMode();
    setTimeout(loadInbox, 800);
  }

  // ---- IVR: post Twilio's fields, read the TwiML, follow <Gather action> / <Record action>
  async function ivrPost(path, fields) {
    stopSpeaking();
    const body = {CallSid: call.sid, From: phone(), To: "+911800000000",
                  CallStatus: "in-progress", ...fields};
    const response = await fetch(path, form(body));
    renderTwiml(await response.text());
  }

  function localPath(url) {
    const parsed = new URL(url, window.location.href);
    return parsed.pathname + parsed.search;
  }

  function renderTwiml(xml) {
    window.SIMULATOR.turns += 1;
    const doc = new DOMParser().parseFromString(xml, "text/xml");
    const lines = [], queue = [];
    doc.querySelectorAll("Say, Play").forEach((node) => {
      const text = node.textContent.trim();
      if (node.nodeName === "Play") {
        const name = text.split("/").pop();
        lines.push("♪ " + name);
        queue.push({url: text});
      } else {
        lines.push(text);
        queue.push({text: text, lang: node.getAttribute("language") || "en-IN"});
      }
    });
    const gather = doc.querySelector("Gather"), record = doc.querySelector("Record");
    const target = gather || record;
    call.action = target ? localPath(target.getAttribute("action")) : null;
    call.expect = record ? "record" : gather ? (gather.getAttribute("numDigits") === "1"
                                                ? "key" : "digits") : null;
    const speech = gather && /speech/.test(gather.getAttribute("input") || "");
    const hint = record ? "\n\n(say the name: press 🎙, or Send)"
      : speech ? "\n\n(the simulator cannot hear you: key the next answer, then #)"
      : call.expect === "digits" ? "\n\n(key the number, then #)" : "";
    show(lines.join("\n") + hint, !target);
    setMode();
    speak(queue);
    if (!target) finish();
  }

  function startCall() {
    mode = "ivr";
    dialbox.value = "";  // keys pressed in the call are answers, not part of a dialled code
    call = {sid: "CAsim" + Date.now().toString(16) + Math.random().toString(16).slice(2, 10),
            action: null, expect: null};
    show("Calling …");
    ivrPost("/ivr/twilio", {});
  }

  function answerCall(digits) {
    if (!call || !call.action) return;
    dialbox.value = "";
    ivrPost(call.action, {Digits: digits.replace(/#$/, "")});
  }

  function sayName() {  // a real phone would record the caller; here a sample recording
    if (!call || call.expect !== "record") return;
    ivrPost(call.action, {RecordingUrl: SIMULATED_RECORDING, RecordingDuration: "2"});
  }

  // ---- speaking: recordings in turn, else the browser's voice for the line's language
  function stopSpeaking() {
    speaking += 1;
    if (window.speechSynthesis) window.speechSynthesis.cancel();
    const player = $("audio");
    player.pause();
  }

  async function speak(queue) {
    const mine = speaking;
    for (const item of queue) {
      if (mine !== speaking) return;
      window.SIMULATOR.spoken.push(item);
      await (item.url ? playRecording(item.url) : sayText(item.text, item.lang));
    }
  }

  function playRecording(url) {
    const player = $("audio");
    player.hidden = false;
    player.src = url;
    return until((done) => { player.onended = done; player.onerror = done;
                             player.play().catch(done); }, 15000);
  }

  function sayText(text, lang) {
    if (!window.speechSynthesis || !window.SpeechSynthesisUtterance) return Promise.resolve();
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = lang;
    const voice = window.speechSynthesis.getVoices().find((v) => v.lang === lang)
      || window.speechSynthesis.getVoices().find((v) => v.lang.startsWith(lang.slice(0, 2)));
    if (voice) utterance.voice = voice;
    return until((done) => { utterance.onend = done; utterance.onerror = done;
                             window.speechSynthesis.speak(utterance); },
                 Math.min(1000 + 90 * text.length, 12000));
  }

  function until(start, limit) {  // a browser with no voice may never say "ended"
    return new Promise((resolve) => { setTimeout(resolve, limit); start(resolve); });
  }

  // ---- keypad and buttons
  function press(key) {
    if (mode === "ivr" && call && call.expect === "key") { answerCall(key); return; }
    if (mode === "ivr" && call && call.expect === "digits" && key === "#") {
      answerCall(dialbox.value); return;
    }
    if (mode === null && dialbox.value === window.SIMULATOR.code) dialbox.value = "";
    dialbox.value += key;
    dialbox.focus();
  }

  function send() {
    const value = dialbox.value;
    if (mode === "ussd") {
      history.push(value); dialbox.value = ""; ussdStep();
    } else if (mode === "ivr" && call && call.expect === "record") {
      sayName();
    } else if (mode === "ivr" && call && call.action) {
      answerCall(value);
    } else {
      dial();
    }
  }

  function hangup() {
    stopSpeaking();
    show("Call ended. Dial " + window.SIMULATOR.code + " to begin again.", true);
    finish();
  }

  function setMode() {  // the page says what the keys do now (and tests can wait on it)
    document.body.dataset.mode = mode || "idle";
    document.body.dataset.expect = (call && call.expect) || "";
    $("speak").hidden = !(call && call.expect === "record");
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
    button.addEventListener("click", () => press(button.dataset.key)));
  $("send").addEventListener("click", send);
  $("speak").addEventListener("click", sayName);
  $("dial").addEventListener("click", dial);
  if ($("call")) $("call").addEventListener("click", startCall);
  $("hangup").addEventListener("click", hangup);
  $("clear").addEventListener("click", () => { dialbox.value = dialbox.value.slice(0, -1); });
  $("refresh").addEventListener("click", loadInbox);
  dialbox.addEventListener("keydown", (e) => { if (e.key === "Enter") send(); });
  $("phone").addEventListener("change", loadInbox);
  setMode();
  loadInbox();
  setInterval(loadInbox, 5000);
})();
