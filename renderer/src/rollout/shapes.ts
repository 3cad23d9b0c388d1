// What a scene draws, as a list of plain shapes in CSS pixels (y down) with colours named by role: the scenes
// stay pure (testable without a canvas, the same for both themes), and one painter puts them on any canvas.
import type { ChartColors } from '../../../shared/figures/colors';

export type Point = readonly [number, number];

/** Colours by role, resolved against the theme when painted. */
export type Ink = 'bg' | 'fg' | 'muted' | 'line' | 'cell' | 'accent' | 'good' | 'bad' | 'warm' | 'violet';

export type Shape =
  | { kind: 'line'; points: readonly Point[]; ink: Ink; width: number; dash?: number[]; alpha?: number }
  | { kind: 'poly'; points: readonly Point[]; fill: Ink; stroke?: Ink; alpha?: number }
  | {
      kind: 'rect';
      x: number;
      y: number;
      w: number;
      h: number;
      fill?: Ink;
      stroke?: Ink;
      radius?: number;
      alpha?: number;
    }
  | { kind: 'circle'; x: number; y: number; r: number; fill?: Ink; stroke?: Ink; width?: number }
  /** Angles as the canvas measures them: radians clockwise from +x (y points down). */
  | { kind: 'arc'; x: number; y: number; r: number; from: number; to: number; ink: Ink; width: number; ccw: boolean }
  | {
      kind: 'text';
      x: number;
      y: number;
      text: string;
      ink: Ink;
      size: number;
      align?: CanvasTextAlign;
      baseline?: CanvasTextBaseline;
      bold?: boolean;
    };

/** The part of the canvas a scene draws in. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function inkColor(c: ChartColors, ink: Ink): string {
  switch (ink) {
    case 'bg':
      return c.panel;
    case 'fg':
      return c.text;
    case 'muted':
      return c.muted;
    case 'line':
      return c.grid;
    case 'cell':
      return c.empty;
    case 'accent':
      return c.palette[0];
    case 'bad':
      return c.palette[1];
    case 'good':
      return c.palette[2];
    case 'warm':
      return c.palette[3];
    case 'violet':
      return c.palette[4];
  }
}

/** A straight arrow from `a` to `b` with a head of `head` pixels. */
export function arrow(a: Point, b: Point, ink: Ink, width: number, head = 4 + 2 * width): Shape[] {
  const angle = Math.atan2(b[1] - a[1], b[0] - a[0]);
  const back = (side: number): Point => [
    b[0] - head * Math.cos(angle + side * 0.45),
    b[1] - head * Math.sin(angle + side * 0.45),
  ];
  const neck: Point = [b[0] - head * 0.7 * Math.cos(angle), b[1] - head * 0.7 * Math.sin(angle)];
  return [
    { kind: 'line', points: [a, neck], ink, width },
    { kind: 'poly', points: [b, back(1), back(-1)], fill: ink },
  ];
}

/**
 * A curved arrow around (x, y) of radius r, starting at canvas angle `from` and sweeping `sweep` radians
 * (positive: clockwise on screen), with its head at the end.
 */
export function arcArrow(x: number, y: number, r: number, from: number, sweep: number, ink: Ink, width: number) {
  const to = from + sweep;
  const dir = Math.sign(sweep) || 1;
  const tip: Point = [x + r * Math.cos(to), y + r * Math.sin(to)];
  // The tangent at the tip, in the direction of travel.
  const tangent = to + (dir * Math.PI) / 2;
  const head = 4 + 2 * width;
  const back = (side: number): Point => [
    tip[0] - head * Math.cos(tangent + side * 0.45),
    tip[1] - head * Math.sin(tangent + side * 0.45),
  ];
  const shapes: Shape[] = [
    { kind: 'arc', x, y, r, from, to: to - (dir * head * 0.6) / r, ink, width, ccw: dir < 0 },
    { kind: 'poly', points: [tip, back(1), back(-1)], fill: ink },
  ];
  return shapes;
}

/** A rectangle of width w and height h centred on c, turned by `angle` (canvas radians), as a polygon. */
export function turnedRect(c: Point, w: number, h: number, angle: number): Point[] {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  return (
    [
      [-w / 2, -h / 2],
      [w / 2, -h / 2],
      [w / 2, h / 2],
      [-w / 2, h / 2],
    ] as const
  ).map(([dx, dy]) => [c[0] + dx * cos - dy * sin, c[1] + dx * sin + dy * cos] as const);
}

function trace(ctx: CanvasRenderingContext2D, points: readonly Point[]): void {
  ctx.beginPath();
  points.forEach(([x, y], i) => {
    if (i) ctx.lineTo(x, y);
    else ctx.moveTo(x, y);
  });
}

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

/** Paints `shapes` over a background of the theme's panel colour; the context's transform maps CSS pixels. */
export function paint(
  ctx: CanvasRenderingContext2D,
  shapes: readonly Shape[],
  colors: ChartColors,
  width: number,
  height: number,
): void {
  const color = (ink: Ink) => inkColor(colors, ink);
  /** Fills and outlines the path traced, each where its ink is given. */
  const fillAndStroke = (fill: Ink | undefined, stroke: Ink | undefined, lineWidth: number) => {
    if (fill) {
      ctx.fillStyle = color(fill);
      ctx.fill();
    }
    if (stroke) {
      ctx.strokeStyle = color(stroke);
      ctx.lineWidth = lineWidth;
      ctx.stroke();
    }
  };
  ctx.fillStyle = color('bg');
  ctx.fillRect(0, 0, width, height);
  ctx.lineJoin = 'round';
  ctx.lineCap = 'round';
  for (const s of shapes) {
    ctx.globalAlpha = 'alpha' in s && s.alpha !== undefined ? s.alpha : 1;
    switch (s.kind) {
      case 'line':
        trace(ctx, s.points);
        ctx.strokeStyle = color(s.ink);
        ctx.lineWidth = s.width;
        ctx.setLineDash(s.dash ?? []);
        ctx.stroke();
        ctx.setLineDash([]);
        break;
      case 'poly':
        trace(ctx, s.points);
        ctx.closePath();
        fillAndStroke(s.fill, s.stroke, 1);
        break;
      case 'rect':
        ctx.beginPath();
        ctx.roundRect(s.x, s.y, s.w, s.h, s.radius ?? 0);
        fillAndStroke(s.fill, s.stroke, 1);
        break;
      case 'circle':
        ctx.beginPath();
        ctx.arc(s.x, s.y, s.r, 0, 2 * Math.PI);
        fillAndStroke(s.fill, s.stroke, s.width ?? 1);
        break;
      case 'arc':
        ctx.beginPath();
        ctx.arc(s.x, s.y, s.r, s.from, s.to, s.ccw);
        ctx.strokeStyle = color(s.ink);
        ctx.lineWidth = s.width;
        ctx.stroke();
        break;
      case 'text':
        ctx.font = `${s.bold ? '600 ' : ''}${s.size}px ${FONT}`;
        ctx.fillStyle = color(s.ink);
        ctx.textAlign = s.align ?? 'left';
        ctx.textBaseline = s.baseline ?? 'alphabetic';
        ctx.fillText(s.text, s.x, s.y);
        break;
    }
  }
  ctx.globalAlpha = 1;
}
