/** Each suite starts its own real servers (emulator, Temporal) on loopback ports it picks itself. */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  modulePathIgnorePatterns: ['<rootDir>/lib', '<rootDir>/.data', '<rootDir>/.tools'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true, diagnostics: false }] },
  testTimeout: 120_000,
  // Two cores: more workers than that only makes the Temporal servers starve each other.
  maxWorkers: 2,
};
