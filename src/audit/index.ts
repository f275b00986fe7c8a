export { auditBuild, auditKeys, AUDIT_DEFAULTS, type AuditOptions } from './audit.js';
export { CHECK_NAMES, OPTIONAL_CHECKS, failedChecks, type AuditCheck, type AuditFidelity, type AuditReport, type CheckName, type CheckStatus } from './report.js';
export { identifyPtau, type PtauIdentity, type PtauKind } from './ptau.js';
