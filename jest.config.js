/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }] },
  // Transpile only (tsconfig.jest.json: isolatedModules); `npm test` type-checks with tsc first.
  // Native code is shared by every test file in a worker; keep workers few on 2-core CI.
  maxWorkers: 2,
  testTimeout: 60000,
};
