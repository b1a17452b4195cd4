// In-memory accounts of the demo app: name → hashed password and profile.

import { hashPassword, verifyPassword, type PasswordHash } from './password';
import type { DemoUser } from './users';

export interface Account {
  name: string;
  userId: string;
  email: string;
  password: PasswordHash;
}

export class UserStore {
  private accounts = new Map<string, Account>();

  constructor(users: DemoUser[]) {
    for (const u of users) {
      this.accounts.set(u.name, { name: u.name, userId: u.userId, email: u.email, password: hashPassword(u.password) });
    }
  }

  /** The account when the password matches; 'invalid_user' or 'invalid_password' otherwise. */
  authenticate(name: string, password: string): Account | 'invalid_user' | 'invalid_password' {
    const account = this.accounts.get(name);
    if (!account) return 'invalid_user';
    return verifyPassword(password, account.password) ? account : 'invalid_password';
  }
}
