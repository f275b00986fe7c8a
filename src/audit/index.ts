export { auditBuild, auditKeys, type AuditOptions } from './audit.js';
export { CHECK_NAMES, failedChecks, type AuditCheck, type AuditReport, type CheckName, type CheckStatus } from './report.js';
export { identifyPtau, type PtauIdentity, type PtauKind } from './ptau.js';
