// The POS simulator in a child process for the ingest benchmark, so the benchmark's memory
// figures are the ingester's alone. Options arrive as JSON in argv[2]; one JSON line with the
// URLs, credentials and dataset counts goes to stdout once it listens. Stops on SIGTERM.
import { startPosSimulator, type PosSimulatorOptions } from '../../src/pos-simulator/pos-simulator.js';

const options = JSON.parse(process.argv[2] ?? '{}') as PosSimulatorOptions;
const sim = await startPosSimulator(options);
process.stdout.write(
  `${JSON.stringify({
    square: sim.square,
    lightspeed: sim.lightspeed,
    counts: {
      people: sim.dataset.people.length,
      payments: sim.dataset.square.payments.length,
      squareNamed: sim.dataset.square.payments.filter((p) => p.customerId).length,
      sales: sim.dataset.lightspeed.sales.length,
      lightspeedNamed: sim.dataset.lightspeed.sales.filter((s) => s.customerId !== 0).length,
    },
  })}\n`,
);
process.on('SIGTERM', () => void sim.close().then(() => process.exit(0)));
