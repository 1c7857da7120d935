import { updateScenarios } from './scenarios.js';

// The simulated A/B backend always runs: it is what machines without rauc use.
updateScenarios('simulated', false);
