import { Command } from 'commander';

/** The program's root command, before any subcommand is registered. */
export const baseCommand = (): Command => new Command('zkinfer')
  .description('Zero-knowledge proofs of ONNX model inference')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });
