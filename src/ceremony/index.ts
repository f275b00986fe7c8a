export { contribute, beacon, checkContributionName, type ContributionResult } from './contribute.js';
export { readPhase2Transcript, zkeyProtocol, ZKEY_PROTOCOL, type Phase2Transcript, type TranscriptEntry } from './transcript.js';
