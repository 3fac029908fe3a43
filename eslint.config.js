import neostandard from 'neostandard'

const DOORS = 'each framework folder is imported through its index.js only'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'coverage/**', '.tap/**', 'test-artifacts/**']
  }),
  {
    // The pages' own script runs in the browser.
    files: ['public/**/*.js'],
    languageOptions: { globals: { document: 'readonly' } }
  },
  {
    // The tutorial's code (and its tests, tour, bench) sees the framework through its doors.
    // test/framework/ is exempt: those are the framework's own unit tests, which reach inside.
    files: ['**/*.ts', '**/*.js'],
    ignores: ['src/framework/**', 'test/framework/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ regex: 'framework/(class-views|session-stores)/(?!index\\.js$)', message: DOORS }]
      }]
    }
  },
  {
    // The framework's own tests use toy apps: nothing of the tutorial (its code, or the test
    // helpers built on it).
    files: ['test/framework/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { regex: '/src/(?!framework/)', message: 'the framework\'s tests import nothing of the tutorial' },
          { regex: '^\\.\\./(\\.\\./)?(helper|modes)\\.js$', message: 'the framework\'s tests import nothing of the tutorial (test/helper.ts builds the tutorial app)' }
        ]
      }]
    }
  },
  {
    // Inside the framework: one folder uses another through its door, and none reaches the tutorial.
    files: ['src/framework/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { regex: '^\\.\\./(class-views|session-stores)/(?!index\\.js$)', message: DOORS },
          { regex: '^\\.\\./\\.\\./', message: 'the framework knows nothing of the tutorial built on it' }
        ]
      }]
    }
  }
]
