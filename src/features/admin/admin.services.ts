import type { Pool } from 'pg';
import type { ClickHouseReader } from '../../queues/clickhouse-reader';
import type { AccountEvents } from '../auth/account-events';
import type { AuthService } from '../auth/auth.service';
import type { LoginAudit } from '../auth/login-audit';
import type { SessionRepository } from '../auth/session.repository';
import type { UserRepository } from '../auth/user.repository';
import type { SettingsService } from '../settings/settings.service';
import { AdminAccountService } from './admin-account.service';
import { AccountTokenRepository } from '../auth/account-token.repository';
import { LoginGuard } from '../auth/login-guard';
import { AdminLoginService } from './admin-login.service';
import { AdministratorPasswordService } from './administrator-password.service';
import { AdminSettingsService } from './admin-settings.service';
import { AdministratorRepository, type AdministratorRow } from './administrator.repository';
import { EventLogRepository } from './event-log.repository';
import { IncidentService } from './incident.service';
import { LegacyResolutions } from './legacy-resolutions';
import { ResolutionRepository } from './resolution.repository';
import { UserPermissionRepository } from './user-permission.repository';
import { AdminUserService } from './user-admin.service';

/** The administrators component: login, users, settings, error logs and security events. */
export interface AdminServices {
  administrators: AdministratorRepository;
  accounts: AdminAccountService;
  login: AdminLoginService;
  users: AdminUserService;
  settings: AdminSettingsService;
  incidents: IncidentService;
}

export interface AdminServicesDeps {
  pg: Pool;
  users: UserRepository;
  sessions: SessionRepository;
  settings: SettingsService;
  auth: AuthService;
  guard: LoginGuard;
  events: AccountEvents;
  audit: LoginAudit;
  reader: ClickHouseReader;
}

export function buildAdminServices(d: AdminServicesDeps): AdminServices {
  const administrators = new AdministratorRepository(d.pg);
  return {
    administrators,
    accounts: new AdminAccountService(administrators, d.guard),
    login: new AdminLoginService(new LoginGuard<AdministratorRow>(d.pg, 'admin'), d.auth, d.audit, new AdministratorPasswordService(administrators, d.sessions, d.guard)),
    users: new AdminUserService({
      users: d.users,
      permissions: new UserPermissionRepository(d.pg),
      sessions: d.sessions,
      tokens: new AccountTokenRepository(d.pg),
      auth: d.auth,
      guard: d.guard,
      events: d.events,
    }),
    settings: new AdminSettingsService(d.settings, d.events.publisher),
    incidents: new IncidentService(new EventLogRepository(d.reader), new ResolutionRepository(d.pg), d.events.publisher, new LegacyResolutions(d.pg, d.reader)),
  };
}
