// Thin Electron bootstrap: one locked-down window, the LabApi over a MessagePort, workers as utilityProcesses.
import path from 'node:path';
import { createBirpc } from 'birpc';
import { app, BrowserWindow, MessageChannelMain, shell, utilityProcess } from 'electron';
import type { LabApi, LabEvents } from '../../shared/api.js';
import { guardedApi } from '../services/guard.js';
import { checkMessage } from '../web/frames.js';
import { appendHostLog } from '../web/hostLog.js';
import { Lab } from '../services/lab.js';
import { stallLimitsFromEnv } from '../services/scheduler.js';
import { appRoot, defaultHome, rendererDir, workerScript } from '../services/paths.js';
import type { WorkerLauncher } from '../services/workers.js';
import type { FromWorker } from '../worker/protocol.js';

const utilityLauncher =
  (script: string): WorkerLauncher =>
  () => {
    const child = utilityProcess.fork(script, [], { serviceName: 'metalab-run', stdio: 'ignore' });
    return {
      get pid() {
        return child.pid;
      },
      send: (message) => child.postMessage(message),
      onMessage: (handler) => child.on('message', (m) => handler(m as FromWorker)),
      onExit: (handler) => child.once('exit', (code) => handler(`exited with code ${code}`)),
      kill: () => void child.kill(),
    };
  };

async function createWindow(lab: Lab, home: string): Promise<void> {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'metalab',
    webPreferences: {
      preload: path.join(appRoot(), 'dist', 'main', 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  // The page never navigates away or opens windows; links to the outside go to the system browser.
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('did-finish-load', () => {
    const { port1, port2 } = new MessageChannelMain();
    const rpc = createBirpc<LabEvents, LabApi>(guardedApi(lab), {
      post: (data) => port1.postMessage(data),
      // Checked as the web host checks frames (main/web/frames.ts): birpc sees only well-formed messages.
      on: (fn) =>
        port1.on('message', (e) => {
          const message = checkMessage(e.data);
          if (message.kind === 'message') fn(message.message);
          else if (message.kind === 'refused') port1.postMessage({ t: 's', i: message.id, e: message.error });
          else appendHostLog(home, `refused a message from the window: ${message.reason} (${message.detail})`);
        }),
      eventNames: ['event'],
      timeout: 0,
    });
    const unsubscribe = lab.subscribe((e) => void rpc.event.asEvent(e).catch(() => undefined));
    port1.on('close', unsubscribe);
    port1.start();
    win.webContents.postMessage('metalab:port', null, [port2]);
  });
  await win.loadFile(path.join(rendererDir(), 'index.html'));
}

void app.whenReady().then(async () => {
  const home = process.env.METALAB_HOME ? defaultHome() : app.getPath('userData');
  const lab = new Lab({
    home,
    launch: utilityLauncher(workerScript()),
    host: 'electron',
    ...stallLimitsFromEnv(),
  });
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', () => void lab.close());
  app.on('web-contents-created', (_e, contents) => contents.on('will-attach-webview', (ev) => ev.preventDefault()));
  await createWindow(lab, home);
});
