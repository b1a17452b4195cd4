// The demo's people. Passwords are here in clear because the traffic generator has to type them;
// the app itself keeps only scrypt hashes (see user-store.ts).

export type HomeCountry = 'DE' | 'GB' | 'US' | 'FR';

export interface DemoUser {
  name: string;
  userId: string;
  email: string;
  password: string;
  home: HomeCountry;
  /** Index into user-agents.ts: the devices this person normally uses. */
  devices: Array<'desktop_chrome_win' | 'desktop_firefox_linux' | 'desktop_safari_mac' | 'iphone_safari' | 'android_chrome' | 'desktop_edge_win'>;
}

export const DEMO_USERS: DemoUser[] = [
  { name: 'alice', userId: 'u-1001', email: 'alice@example.com', password: 'blue-harbour-71', home: 'DE', devices: ['desktop_firefox_linux', 'android_chrome'] },
  { name: 'bob', userId: 'u-1002', email: 'bob@example.com', password: 'quiet-meadow-42', home: 'GB', devices: ['desktop_chrome_win', 'iphone_safari'] },
  { name: 'carol', userId: 'u-1003', email: 'carol@example.com', password: 'amber-falcon-09', home: 'US', devices: ['desktop_safari_mac', 'iphone_safari'] },
  { name: 'dave', userId: 'u-1004', email: 'dave@example.com', password: 'silver-canyon-58', home: 'FR', devices: ['desktop_edge_win'] },
  { name: 'erin', userId: 'u-1005', email: 'erin@example.com', password: 'paper-lantern-33', home: 'DE', devices: ['desktop_chrome_win', 'android_chrome'] },
  { name: 'frank', userId: 'u-1006', email: 'frank@example.com', password: 'granite-river-84', home: 'US', devices: ['desktop_chrome_win'] },
  { name: 'grace', userId: 'u-1007', email: 'grace@example.com', password: 'velvet-summit-16', home: 'GB', devices: ['desktop_safari_mac', 'iphone_safari'] },
  { name: 'heidi', userId: 'u-1008', email: 'heidi@example.com', password: 'copper-willow-27', home: 'FR', devices: ['android_chrome', 'desktop_firefox_linux'] },
];
