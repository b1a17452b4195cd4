import { countryName, flagEmoji, formatCountdown, humanize, isPrivateCountry } from './format';

describe('country display', () => {
  test('ISO codes become flag emoji (regional indicator pairs)', () => {
    expect(flagEmoji('DE')).toBe('\u{1F1E9}\u{1F1EA}');
    expect(flagEmoji('jp')).toBe('\u{1F1EF}\u{1F1F5}');
  });

  test('private and unknown values get no flag', () => {
    expect(flagEmoji('private')).toBeUndefined();
    expect(flagEmoji(null)).toBeUndefined();
    expect(flagEmoji('EUR')).toBeUndefined();
  });

  test('names: countries in English, private addresses said as such', () => {
    expect(countryName('GB')).toBe('United Kingdom');
    expect(countryName('private')).toBe('Private network');
    expect(isPrivateCountry('Private')).toBe(true);
    expect(countryName(null)).toBe('');
  });
});

test('reason codes read as sentences', () => {
  expect(humanize('terminated_by_admin')).toBe('Terminated by admin');
  expect(humanize('idle_timeout')).toBe('Idle timeout');
  expect(humanize(null)).toBe('');
});

test('countdowns keep two units and round up to the second', () => {
  expect(formatCountdown(12_300)).toBe('13s');
  expect(formatCountdown(4 * 60_000 + 9_000)).toBe('4m 09s');
  expect(formatCountdown(2 * 3600_000 + 5 * 60_000)).toBe('2h 05m');
  expect(formatCountdown(26 * 3600_000)).toBe('1d 2h');
  expect(formatCountdown(-5)).toBe('0s');
});
