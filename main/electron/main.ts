// Thin Electron bootstrap: one locked-down window, the LabApi over a MessagePort, workers as utilityProcesses;
// "Connect to a lab…" opens another machine's lab (its web host's page) in a window of its own.
import path from 'node:path';
import { createBirpc } from 'birpc';
import {
  app,
  BrowserWindow,
  dialog,
  Menu,
  type MenuItemConstructorOptions,
  MessageChannelMain,
  shell,
  utilityProcess,
} from 'electron';
import type { LabApi, LabEvents } from '../../shared/api.js';
import { guardedApi } from '../services/guard.js';
import { checkMessage } from '../web/frames.js';
import { appendHostLog } from '../web/hostLog.js';
import { Lab } from '../services/lab.js';
import { stallLimitsFromEnv } from '../services/scheduler.js';
import { appRoot, defaultHome, rendererDir, workerScript } from '../services/paths.js';
import type { WorkerLauncher } from '../services/workers.js';
import type { FromWorker } from '../worker/protocol.js';
import { FORM_ORIGIN, forgetLab, labForm, labUrl, parseLab, readLabs, type RemoteLab, rememberLab } from './labs.js';

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

const LOCKED = { contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true } as const;

/** The page never navigates away or opens windows; links to the outside go to the system browser. */
function keepInside(win: BrowserWindow): void {
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
}

async function createWindow(lab: Lab, home: string): Promise<void> {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'metalab',
    webPreferences: { preload: path.join(appRoot(), 'dist', 'main', 'preload.cjs'), ...LOCKED },
  });
  keepInside(win);
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

const labsFile = () => path.join(app.getPath('userData'), 'remote-labs.json');

/**
 * Another machine's lab: the page its web host serves, over http, so the page talks to that host by WebSocket with
 * the token from the address (no preload: nothing of this process reaches it).
 */
function openRemoteLab(lab: RemoteLab): void {
  const win = new BrowserWindow({ width: 1400, height: 900, title: `metalab — ${lab.label}`, webPreferences: LOCKED });
  keepInside(win);
  // The page titles itself as any lab does: the window says which lab it is.
  win.on('page-title-updated', (e, title) => {
    e.preventDefault();
    win.setTitle(`${title} — ${lab.label}`);
  });
  win.loadURL(labUrl(lab)).catch((err: Error) => {
    dialog.showErrorBox(
      'The lab does not answer',
      `${lab.label} (${lab.address}): ${err.message}\nIs \`metalab connect\` (or \`metalab serve\`) running for it?`,
    );
    win.destroy();
  });
}

/** Asks for a lab's address and token in a small form (labs.ts); remembers the lab and opens it. */
function connectToLab(): void {
  const parent = BrowserWindow.getFocusedWindow() ?? undefined;
  const form = new BrowserWindow({
    parent,
    modal: Boolean(parent),
    width: 520,
    height: 380,
    title: 'Connect to a lab',
    webPreferences: { ...LOCKED, javascript: false },
  });
  form.setMenu(null);
  const show = (error?: string, typed?: Record<string, string>) =>
    void form.loadURL(`data:text/html;charset=utf-8,${encodeURIComponent(labForm(error, typed))}`);
  form.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  // The form's answer is a navigation to FORM_ORIGIN: caught here, never loaded.
  form.webContents.on('will-navigate', (e) => {
    e.preventDefault();
    const answer = new URL(e.url);
    if (answer.origin !== FORM_ORIGIN) return;
    if (answer.pathname === '/cancel') return form.close();
    const typed = Object.fromEntries(answer.searchParams);
    const parsed = parseLab(typed);
    if ('error' in parsed) return show(parsed.error, typed);
    rememberLab(labsFile(), parsed.lab);
    setMenu();
    form.close();
    openRemoteLab(parsed.lab);
  });
  show();
}

/** The application menu: the usual ones and Lab, with "Connect to a lab…" and the labs remembered. */
function setMenu(): void {
  const labs = readLabs(labsFile());
  const remembered: MenuItemConstructorOptions[] = labs.length
    ? [
        { type: 'separator' },
        ...labs.map((lab) => ({ label: lab.label, click: () => openRemoteLab(lab) })),
        {
          label: 'Forget',
          submenu: labs.map((lab) => ({
            label: lab.label,
            click: () => {
              forgetLab(labsFile(), lab.label);
              setMenu();
            },
          })),
        },
      ]
    : [];
  const mac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(mac ? [{ role: 'appMenu' } as const] : []),
    {
      label: 'Lab',
      submenu: [
        { label: 'Connect to a lab…', accelerator: 'CmdOrCtrl+Shift+O', click: connectToLab },
        ...remembered,
        { type: 'separator' },
        mac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
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
  setMenu();
  await createWindow(lab, home);
});
