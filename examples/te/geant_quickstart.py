"""Train the Geminet-style solver on geant and compare it with the LP optimum and ECMP on held-out traffic.

Run: python examples/te/geant_quickstart.py   (about a minute on two CPU cores)
"""

from nettwin.te import ECMPSolver, GeminetSolver, evaluate, make_instances, random_failures

train = make_instances("sndlib/geant", steps=200, split="train")
test = make_instances("sndlib/geant", steps=200, split="test")
model = GeminetSolver(train_steps=300).fit(train)

for title, instances in {
    "held-out traffic": test,
    "held-out traffic, one link failed": [random_failures(i, 1, seed=s) for s, i in enumerate(test)],
}.items():
    result = evaluate({"geminet": model, "ecmp": ECMPSolver()}, instances)
    print(title)
    for row in result.rows():
        print(f"  {row['solver']:<8} normalised MLU avg {row['avg']:.4f}  p99 {row['p99']:.4f}  {row['ms']:.1f} ms")
