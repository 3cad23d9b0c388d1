// The desktop app's remote labs (main/electron/labs.ts): what the user types, the remembered-labs file, the form.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { forgetLab, labForm, labUrl, parseLab, readLabs, rememberLab } from '../../main/electron/labs';
import { tempDir } from '../helpers/tmp';

const token = 'ab'.repeat(24);

describe('remote labs', () => {
  it('takes the address as printed, token included, or the token apart', () => {
    const lab = { label: '127.0.0.1:8123', address: 'http://127.0.0.1:8123', token };
    expect(parseLab({ address: ` http://127.0.0.1:8123/?token=${token} ` })).toEqual({ lab });
    expect(parseLab({ address: '127.0.0.1:8123', token })).toEqual({ lab });
    expect(parseLab({ address: 'http://localhost:9000/', token: ` ${token}`, label: ' gpu box ' })).toEqual({
      lab: { label: 'gpu box', address: 'http://localhost:9000', token },
    });
    expect(labUrl(lab)).toBe(`http://127.0.0.1:8123/?token=${token}`);
  });

  it('refuses what no web host answers at, and a token that is not one', () => {
    for (const address of ['', 'nonsense:', 'https://127.0.0.1:8123', 'http://example.com:8123', 'http://127.0.0.1'])
      expect(parseLab({ address, token }), address).toEqual({ error: expect.stringMatching(/is not a lab's address/) });
    for (const bad of [undefined, 'xyz', token.toUpperCase(), `${token}0`])
      expect(parseLab({ address: '127.0.0.1:8123', token: bad }), bad).toEqual({
        error: expect.stringMatching(/^the token is the 48 hexadecimal characters/),
      });
  });

  it('remembers labs by label in a file for its owner only, replaces and forgets them', () => {
    const file = path.join(tempDir(), 'userData', 'remote-labs.json');
    expect(readLabs(file)).toEqual([]);
    const a = { label: 'cluster', address: 'http://127.0.0.1:8123', token };
    const b = { label: 'gpu', address: 'http://127.0.0.1:8124', token: 'cd'.repeat(24) };
    rememberLab(file, a);
    expect(rememberLab(file, b)).toEqual([a, b]);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({
      cluster: { address: a.address, token },
      gpu: { address: b.address, token: b.token },
    });
    const moved = { ...a, address: 'http://127.0.0.1:9000' };
    expect(rememberLab(file, moved)).toEqual([b, moved]);
    expect(readLabs(file)).toEqual([b, moved]);
    expect(forgetLab(file, 'gpu')).toEqual([moved]);
    expect(readLabs(file)).toEqual([moved]);
  });

  it('reads a damaged file as what it still holds', () => {
    const file = path.join(tempDir(), 'remote-labs.json');
    fs.writeFileSync(file, '{"cluster": {"address": "http://127.0.0');
    expect(readLabs(file)).toEqual([]);
    fs.writeFileSync(file, '[1, 2]');
    expect(readLabs(file)).toEqual([]);
    fs.writeFileSync(
      file,
      JSON.stringify({
        ok: { address: 'http://127.0.0.1:8123', token },
        noToken: { address: 'http://127.0.0.1:8123' },
        remote: { address: 'http://10.0.0.2:8123', token },
        nothing: null,
      }),
    );
    expect(readLabs(file)).toEqual([{ label: 'ok', address: 'http://127.0.0.1:8123', token }]);
  });

  it('shows the form again with what was typed, escaped, and why it was refused', () => {
    const html = labForm('the token is <wrong>', { address: '"><script>x</script>', token: "a'b" });
    expect(html).toContain('value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
    expect(html).toContain('value="a&#39;b"');
    expect(html).toContain('the token is &lt;wrong&gt;');
    expect(html).not.toContain('<script');
    for (const name of ['address', 'token', 'label']) expect(html).toContain(`name="${name}"`);
  });
});
