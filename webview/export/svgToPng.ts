/**
 * An SVG figure → a PNG data URL, in the browser: the SVG loaded as an image (a data: URL, which
 * the panel's and the report's CSPs both allow and which leaves the canvas untainted) and drawn
 * on white at `scale` pixels per SVG pixel (2×, for print), as the CLI's resvg draws it.
 */
export async function svgToPngDataUrl(svg: string, scale = 2): Promise<string> {
  const image = new Image();
  image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(image.naturalWidth * scale));
  canvas.height = Math.max(1, Math.round(image.naturalHeight * scale));
  const context = canvas.getContext('2d');
  if (context === null) throw new Error('no 2D canvas to draw the figure on');
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(image, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL('image/png');
}
