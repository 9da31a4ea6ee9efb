// Type-checks a consumer of both entries of underhood-sim against the shipped declarations.
import { Simulation, checkTwoPhaseTla } from "underhood-sim";
import init, { Simulation as WebSimulation, initSync } from "underhood-sim/web";

export async function both(bytes: Uint8Array): Promise<string[]> {
  await init();
  initSync({ module: bytes });
  const web: WebSimulation = WebSimulation.fromGallery("happy-path", "", "[]");
  const events: number = web.runToEnd();
  const bundled: Simulation = new Simulation(Simulation.scenarioJson("happy-path"), "7", "[]");
  const finished: boolean = bundled.finished();
  const report: string = checkTwoPhaseTla(3, false);
  return [web.traceHash(), bundled.summary(), String(events), String(finished), report];
}

// @ts-expect-error: step takes a number of events.
export const wrong = (s: Simulation) => s.step("ten");
