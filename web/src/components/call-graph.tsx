import cytoscape from 'cytoscape';
import { useEffect, useRef } from 'react';
import type { GraphView } from '../types.js';

const EFFECT_COLOURS: Record<string, string> = {
  allow: '#2e7d32',
  flag: '#ef6c00',
  approve: '#1565c0',
  deny: '#c62828',
};

/** The task's call graph: users, agents and tools as nodes; delegations and calls (coloured by decision) as edges. */
export function CallGraph({ graph }: { graph: GraphView }) {
  const container = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!container.current) return;
    const elements: cytoscape.ElementDefinition[] = [
      ...graph.nodes.map((node) => ({ data: { id: node.id, label: node.label, kind: node.kind } })),
      ...graph.edges.map((edge, index) => ({
        data: {
          id: `e${index}`,
          source: edge.from,
          target: edge.to,
          kind: edge.kind,
          label: edge.kind === 'call' ? `#${edge.step ?? ''} ${edge.effect ?? ''}` : 'delegates',
          colour: edge.kind === 'call' ? (EFFECT_COLOURS[edge.effect ?? ''] ?? '#555') : '#6a1b9a',
        },
      })),
    ];
    const cy = cytoscape({
      container: container.current,
      elements,
      layout: { name: 'breadthfirst', directed: true, spacingFactor: 1.2 },
      style: [
        {
          selector: 'node',
          style: {
            label: 'data(label)',
            'font-size': 11,
            'text-valign': 'bottom',
            'text-margin-y': 4,
            'background-color': '#90a4ae',
            width: 28,
            height: 28,
          },
        },
        { selector: 'node[kind = "user"]', style: { 'background-color': '#6a1b9a', shape: 'ellipse' } },
        {
          selector: 'node[kind = "agent"]',
          style: { 'background-color': '#1565c0', shape: 'round-rectangle' },
        },
        { selector: 'node[kind = "tool"]', style: { 'background-color': '#455a64', shape: 'diamond' } },
        {
          selector: 'edge',
          style: {
            label: 'data(label)',
            'font-size': 9,
            'curve-style': 'bezier',
            'target-arrow-shape': 'triangle',
            'line-color': 'data(colour)',
            'target-arrow-color': 'data(colour)',
            width: 2,
          },
        },
        { selector: 'edge[kind = "delegation"]', style: { 'line-style': 'dashed' } },
      ],
    });
    return () => cy.destroy();
  }, [graph]);
  return (
    <div
      className="graph"
      ref={container}
      data-testid="call-graph"
      role="img"
      aria-label={`Call graph: ${graph.nodes.length} nodes, ${graph.edges.length} edges`}
    />
  );
}
