/// <reference lib="dom" />
// The preload exposes nothing but the bridge: it hands the page the MessagePort that carries the LabApi.
import { ipcRenderer } from 'electron';

ipcRenderer.on('metalab:port', (event) => {
  window.postMessage('metalab:port', '*', event.ports);
});
