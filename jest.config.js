module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // The validation plugin's generated data, written when its inputs changed.
  globalSetup: '<rootDir>/test/util/validation-data.ts',
  transform: { '^.+\\.ts$': 'ts-jest' },
};
