// A job page's fact listing the artifacts its document references, each linked to its page.

import { Anchor, Group } from "@mantine/core";
import { Link } from "react-router-dom";

import { Fact } from "../common/Fact";
import { artifactLink } from "./ArtifactsPage";

export function JobArtifacts({ names }: { names: readonly string[] }) {
  if (names.length === 0) return null;
  return (
    <Fact label="Artifacts">
      <Group gap="xs" data-testid="job-artifacts">
        {names.map((name) => (
          <Anchor key={name} component={Link} to={artifactLink(name)} ff="monospace" size="sm">
            {name}
          </Anchor>
        ))}
      </Group>
    </Fact>
  );
}
