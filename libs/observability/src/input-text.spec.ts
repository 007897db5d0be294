import { printableName, strictDecode, textProblem } from './input-text';

describe('outside text', () => {
  it('refuses control characters by kind', () => {
    expect(textProblem('a\u0000b', 'text')).toBe('contains the control character U+0000');
    expect(textProblem('line\nbreak\ttab\r', 'text')).toBeNull();
    expect(textProblem('line\nbreak', 'identifier')).toBe('contains the control character U+000A');
    expect(textProblem('a\tb', 'header')).toBeNull();
    expect(textProblem('del\u007f', 'text')).toBe('contains the control character U+007F');
    expect(textProblem('\ud800', 'text')).toBe('is not well-formed Unicode (a lone surrogate)');
    expect(textProblem('𝕏 é', 'identifier')).toBeNull();
  });

  it('decodes percent-encoding strictly', () => {
    expect(strictDecode('a%20b+c', true)).toBe('a b c');
    expect(strictDecode('%zz')).toBeNull();
    expect(strictDecode('%E0%A4%A')).toBeNull();
    expect(strictDecode('%FF')).toBeNull();
  });

  it('prints hostile names safely', () => {
    expect(printableName('a\u0000')).toBe('"a\\u0000"');
    expect(printableName('x'.repeat(100))).toHaveLength(61);
  });
});
