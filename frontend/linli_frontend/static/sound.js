// A short tone for new alerts, made by the browser (no audio file). Off unless switched on.

const KEY = "linli.sound";
let context = null;

export function soundEnabled() {
  return localStorage.getItem(KEY) === "on";
}

/** Switch sound on or off; switching on happens in a click, which lets audio start. */
export function setSound(enabled) {
  localStorage.setItem(KEY, enabled ? "on" : "off");
  if (enabled && !context && window.AudioContext) context = new AudioContext();
}

/** Play the tone if sound is on. */
export function chime() {
  if (!soundEnabled()) return;
  if (!context && window.AudioContext) context = new AudioContext();
  if (!context) return;
  const oscillator = context.createOscillator();
  const gain = context.createGain();
  oscillator.frequency.value = 880;
  gain.gain.setValueAtTime(0.2, context.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.001, context.currentTime + 0.4);
  oscillator.connect(gain).connect(context.destination);
  oscillator.start();
  oscillator.stop(context.currentTime + 0.4);
}
