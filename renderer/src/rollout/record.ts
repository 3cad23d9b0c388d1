// Exports of a rollout: an animated GIF (gifenc) and a WebM video (the canvas's captured stream through
// MediaRecorder). Both draw the chosen frames on a canvas of their own, so the viewer keeps playing meanwhile.
import { applyPalette, GIFEncoder, quantize } from 'gifenc';
import type { ExportPlan } from './timeline';

/** Draws frame f on the export canvas. */
export type DrawFrame = (ctx: CanvasRenderingContext2D, frame: number) => void;

export interface ExportCanvas {
  width: number;
  height: number;
  draw: DrawFrame;
  /** Told how many frames are done, after each. */
  progress: (done: number, total: number) => void;
}

function canvasOf(width: number, height: number): { canvas: HTMLCanvasElement; ctx: CanvasRenderingContext2D } {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('this browser gives no 2D canvas');
  return { canvas, ctx };
}

const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

/** An animated GIF of the plan's frames, each with its own palette (the scenes use few colours). */
export async function gifBlob(plan: ExportPlan, out: ExportCanvas): Promise<Blob> {
  const { ctx } = canvasOf(out.width, out.height);
  const gif = GIFEncoder();
  // GIF delays count hundredths of a second.
  const delay = Math.max(20, Math.round(plan.delayMs / 10) * 10);
  for (const [i, frame] of plan.frames.entries()) {
    out.draw(ctx, frame);
    const { data } = ctx.getImageData(0, 0, out.width, out.height);
    const palette = quantize(data, 256);
    gif.writeFrame(applyPalette(data, palette), out.width, out.height, { palette, delay });
    out.progress(i + 1, plan.frames.length);
    // Let the page repaint and take input between frames.
    if (i % 4 === 3) await nextTask();
  }
  gif.finish();
  return new Blob([gif.bytes() as Uint8Array<ArrayBuffer>], { type: 'image/gif' });
}

/** The WebM flavours MediaRecorder may offer, best first. */
const WEBM_TYPES = ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm'];

export function canRecordWebm(): boolean {
  return typeof MediaRecorder !== 'undefined' && WEBM_TYPES.some((t) => MediaRecorder.isTypeSupported(t));
}

/**
 * A WebM video of the plan's frames. MediaRecorder records in real time, so this takes as long as the video lasts:
 * each frame is drawn, handed to the stream, and held for its delay.
 */
export async function webmBlob(plan: ExportPlan, out: ExportCanvas): Promise<Blob> {
  const { canvas, ctx } = canvasOf(out.width, out.height);
  const stream = canvas.captureStream(0);
  const track = stream.getVideoTracks()[0] as CanvasCaptureMediaStreamTrack;
  const mimeType = WEBM_TYPES.find((t) => MediaRecorder.isTypeSupported(t))!;
  const recorder = new MediaRecorder(stream, { mimeType, videoBitsPerSecond: 4_000_000 });
  const chunks: Blob[] = [];
  recorder.ondataavailable = (e) => {
    if (e.data.size) chunks.push(e.data);
  };
  const stopped = new Promise((resolve) => (recorder.onstop = resolve));
  out.draw(ctx, plan.frames[0]);
  recorder.start();
  let due = performance.now();
  for (const [i, frame] of plan.frames.entries()) {
    out.draw(ctx, frame);
    track.requestFrame();
    out.progress(i + 1, plan.frames.length);
    due += plan.delayMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
  }
  recorder.stop();
  await stopped;
  track.stop();
  return new Blob(chunks, { type: 'video/webm' });
}
