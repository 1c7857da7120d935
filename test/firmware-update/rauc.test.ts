import { raucUnavailableReason } from './backend-fixture.js';
import { updateScenarios } from './scenarios.js';

const reason = raucUnavailableReason();
if (reason) {
  console.log(`# real rauc cannot run here (${reason}); these scenarios run against the simulated A/B backend only`);
}
updateScenarios('rauc', reason ? `real rauc unavailable: ${reason}` : false);
